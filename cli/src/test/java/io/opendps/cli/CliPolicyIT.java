package io.opendps.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.opendps.broker.OpenDpsServer;
import io.opendps.broker.ServerOptions;
import io.opendps.broker.ServiceInfo;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code opendps policy} against a real server over HTTPS: the policy life cycle, connection strings printed by
 * {@code policy connection-string} used by other commands (and refused where their rights end), key regeneration,
 * the owner policy kept usable through {@code service.json}, and the clear errors. The only policy holding
 * ServiceConfig here is the owner's, so the last-administrator guard applies to it.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CliPolicyIT {

    private static final String NL = System.lineSeparator();

    @TempDir
    static Path dataDir;
    static OpenDpsServer server;

    @BeforeAll
    static void start() {
        server = OpenDpsServer.start(ServerOptions.forTests(dataDir));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    static CliIT.Run admin(String... args) {
        List<String> all = new ArrayList<>(Arrays.asList(args));
        all.add("--data-dir");
        all.add(dataDir.toString());
        return CliIT.opendps(all.toArray(String[]::new));
    }

    /** A command run with a connection string instead of the data directory, trusting the server's CA. */
    static CliIT.Run with(String connectionString, String... args) {
        List<String> all = new ArrayList<>(Arrays.asList(args));
        all.addAll(List.of("--connection-string", connectionString, "--ca", server.info().caCertificate().toString()));
        return CliIT.opendps(all.toArray(String[]::new));
    }

    static String connectionString(String policy, String... extra) {
        List<String> args = new ArrayList<>(List.of("policy", "connection-string", policy));
        args.addAll(Arrays.asList(extra));
        CliIT.Run run = admin(args.toArray(String[]::new));
        assertThat(run.exitCode()).as(run.err()).isZero();
        return run.out().trim();
    }

    @Test
    void policy_createListShowUpdateDelete_roundTrip() throws Exception {
        CliIT.Run created = admin("policy", "create", "cli-reader", "--rights", "EnrollmentRead", "--json");
        assertThat(created.exitCode()).as(created.err()).isZero();
        JsonNode p = created.json();
        assertThat(p.path("keyName").asText()).isEqualTo("cli-reader");
        assertThat(p.path("rights").asText()).isEqualTo("EnrollmentRead");
        assertThat(Base64.getDecoder().decode(p.path("primaryKey").asText())).hasSize(64);

        CliIT.Run list = admin("policy", "list");
        assertThat(list.exitCode()).as(list.err()).isZero();
        assertThat(list.out()).contains("cli-reader").contains("provisioningserviceowner")
                .doesNotContain(p.path("primaryKey").asText());
        assertThat(admin("policy", "list", "--json").json().path("value").isArray()).isTrue();

        CliIT.Run shown = admin("policy", "show", "CLI-READER");
        assertThat(shown.exitCode()).as(shown.err()).isZero();
        assertThat(shown.out()).contains("keyName: cli-reader" + NL).contains("rights: EnrollmentRead" + NL)
                .contains("etag: ").contains("created: ").doesNotContain("primaryKey");

        CliIT.Run updated = admin("policy", "update", "cli-reader", "--rights", "EnrollmentRead, EnrollmentWrite",
                "--rights", "RegistrationStatusRead", "--json");
        assertThat(updated.exitCode()).as(updated.err()).isZero();
        assertThat(updated.json().path("rights").asText())
                .isEqualTo("EnrollmentRead, EnrollmentWrite, RegistrationStatusRead");
        assertThat(updated.json().path("primaryKey")).isEqualTo(p.path("primaryKey"));

        CliIT.Run deleted = admin("policy", "delete", "cli-reader");
        assertThat(deleted.out()).isEqualTo("Deleted access policy cli-reader" + NL);
        CliIT.Run gone = admin("policy", "show", "cli-reader");
        assertThat(gone.exitCode()).isEqualTo(1);
        assertThat(gone.err()).isEqualTo("opendps: access policy 'cli-reader' not found" + NL);
    }

    @Test
    void policy_createWithKeys_textOutputShowsThem() {
        String key = Base64.getEncoder().encodeToString(new byte[32]);

        CliIT.Run created = admin("policy", "create", "cli-keys", "--rights", "RegistrationStatusRead",
                "--primary-key", key, "--secondary-key", key);

        assertThat(created.exitCode()).as(created.err()).isZero();
        assertThat(created.out()).contains("primaryKey: " + key + NL).contains("secondaryKey: " + key + NL)
                .contains("rights: RegistrationStatusRead" + NL);
    }

    @Test
    void connectionString_ofReadOnlyPolicy_listsEnrollments_butCannotCreateThem() throws Exception {
        assertThat(admin("enrollment", "create", "--registration-id", "cli-pol-dev").exitCode()).isZero();
        assertThat(admin("policy", "create", "cli-enrollmentread", "--rights", "EnrollmentRead").exitCode()).isZero();

        String cs = connectionString("cli-enrollmentread");
        assertThat(cs).matches("HostName=localhost:" + server.info().httpsPort()
                + ";SharedAccessKeyName=cli-enrollmentread;SharedAccessKey=[A-Za-z0-9+/]{86}==");

        CliIT.Run list = with(cs, "enrollment", "list");
        assertThat(list.exitCode()).as(list.err()).isZero();
        assertThat(list.out()).contains("cli-pol-dev");
        CliIT.Run create = with(cs, "enrollment", "create", "--registration-id", "cli-pol-denied");
        assertThat(create.exitCode()).isEqualTo(1);
        assertThat(create.err()).isEqualTo("opendps: Unauthorized: policy 'cli-enrollmentread' lacks the "
                + "EnrollmentWrite right" + NL);
        CliIT.Run policies = with(cs, "policy", "list");
        assertThat(policies.exitCode()).isEqualTo(1);
        assertThat(policies.err()).contains("lacks the ServiceConfig right");

        String secondary = connectionString("cli-enrollmentread", "--secondary");
        assertThat(secondary).isNotEqualTo(cs).startsWith("HostName=localhost:");
        assertThat(with(secondary, "enrollment", "list").exitCode()).isZero();
        JsonNode json = admin("policy", "connection-string", "cli-enrollmentread", "--json").json();
        assertThat(json.path("keyName").asText()).isEqualTo("cli-enrollmentread");
        assertThat(json.path("connectionString").asText()).isEqualTo(cs);
    }

    @Test
    void regenerateKey_oldConnectionStringIsRefused_newOneAndTheOtherKeyWork() {
        assertThat(admin("policy", "create", "cli-rotating", "--rights", "EnrollmentRead").exitCode()).isZero();
        String oldPrimary = connectionString("cli-rotating");
        String secondary = connectionString("cli-rotating", "--secondary");

        CliIT.Run regenerated = admin("policy", "regenerate-key", "cli-rotating", "--key", "PRIMARY");
        assertThat(regenerated.exitCode()).as(regenerated.err()).isZero();
        assertThat(regenerated.err()).isEmpty();

        CliIT.Run refused = with(oldPrimary, "enrollment", "list");
        assertThat(refused.exitCode()).isEqualTo(1);
        assertThat(refused.err()).contains("the SAS token signature does not match policy 'cli-rotating'");
        assertThat(with(secondary, "enrollment", "list").exitCode()).isZero();
        assertThat(with(connectionString("cli-rotating"), "enrollment", "list").exitCode()).isZero();
    }

    @Test
    void regenerateKey_ownersPrimary_dataDirKeepsWorkingThroughServiceJson() {
        String before = ServiceInfo.read(dataDir).serviceConnectionString();

        CliIT.Run regenerated = admin("policy", "regenerate-key", "provisioningserviceowner", "--key", "primary",
                "--json");

        assertThat(regenerated.exitCode()).as(regenerated.err()).isZero();
        assertThat(regenerated.err()).contains("Note: the key this command signed with was replaced");
        String after = ServiceInfo.read(dataDir).serviceConnectionString();
        assertThat(after).isNotEqualTo(before).contains("SharedAccessKeyName=provisioningserviceowner;");
        CliIT.Run list = admin("policy", "list");
        assertThat(list.exitCode()).as(list.err()).isZero();
        CliIT.Run stale = with(before, "policy", "list");
        assertThat(stale.exitCode()).isEqualTo(1);
        assertThat(stale.err()).contains("signature does not match policy 'provisioningserviceowner'");
    }

    @Test
    void lastAdministrator_deleteOrDowngrade_isAClearError() {
        CliIT.Run delete = admin("policy", "delete", "provisioningserviceowner");
        assertThat(delete.exitCode()).isEqualTo(1);
        assertThat(delete.err()).isEqualTo("opendps: refusing to delete access policy 'provisioningserviceowner': "
                + "it is the last policy holding ServiceConfig, and without one nobody could manage access policies "
                + "or CA certificates; give ServiceConfig to another policy first" + NL);

        CliIT.Run downgrade = admin("policy", "update", "provisioningserviceowner", "--rights", "EnrollmentRead");
        assertThat(downgrade.exitCode()).isEqualTo(1);
        assertThat(downgrade.err()).contains("refusing to remove ServiceConfig from access policy "
                + "'provisioningserviceowner'");
        assertThat(admin("policy", "show", "provisioningserviceowner").out()).contains("rights: ServiceConfig, ");
    }

    @Test
    void badInput_isAClearError() {
        CliIT.Run unknownRight = admin("policy", "create", "cli-bad", "--rights", "EnrollmentRead,Bogus");
        assertThat(unknownRight.exitCode()).isEqualTo(1);
        assertThat(unknownRight.err()).startsWith("opendps: rights: unknown access right 'Bogus'; valid rights: ");

        CliIT.Run badName = admin("policy", "create", "bad:name", "--rights", "EnrollmentRead");
        assertThat(badName.exitCode()).isEqualTo(1);
        assertThat(badName.err()).contains("invalid keyName 'bad:name'");

        CliIT.Run badKey = admin("policy", "create", "cli-bad", "--rights", "EnrollmentRead", "--primary-key", "abc");
        assertThat(badKey.exitCode()).isEqualTo(1);
        assertThat(badKey.err()).contains("primaryKey must be base64 of 16 to 64 bytes");

        CliIT.Run badWhich = admin("policy", "regenerate-key", "provisioningserviceowner", "--key", "tertiary");
        assertThat(badWhich.exitCode()).isEqualTo(1);
        assertThat(badWhich.err()).isEqualTo("opendps: --key: 'tertiary' is not 'primary' or 'secondary'" + NL);

        assertThat(admin("policy", "create", "cli-twice", "--rights", "EnrollmentRead").exitCode()).isZero();
        CliIT.Run twice = admin("policy", "create", "cli-twice", "--rights", "EnrollmentRead");
        assertThat(twice.exitCode()).isEqualTo(1);
        assertThat(twice.err()).contains("access policy 'cli-twice' already exists");

        CliIT.Run missing = admin("policy", "update", "cli-missing", "--rights", "EnrollmentRead");
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.err()).isEqualTo("opendps: access policy 'cli-missing' not found" + NL);
        assertThat(admin("policy", "show", "cli-bad").exitCode()).isEqualTo(1);
    }

    @Test
    void help_everyPolicyCommandHasIt() {
        for (String sub : List.of("", "list", "show", "create", "update", "delete", "regenerate-key",
                "connection-string")) {
            String[] cmd = sub.isEmpty() ? new String[] {"policy", "--help"} : new String[] {"policy", sub, "--help"};
            CliIT.Run run = CliIT.opendps(cmd);
            assertThat(run.exitCode()).as(String.join(" ", cmd)).isZero();
            assertThat(run.out()).as(String.join(" ", cmd)).contains("Usage: opendps policy");
        }
    }
}
