package io.opendps.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.opendps.core.json.Json;
import io.opendps.core.service.PolicyKey;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code opendps policy}: shared access policies, the named key pairs with rights that sign service API requests
 * (connection strings). Needs a connection string whose policy holds {@code ServiceConfig}; the one in the data
 * directory's {@code service.json} does (the server keeps it current when that policy's key is regenerated or the
 * policy is deleted).
 */
@Command(name = "policy", mixinStandardHelpOptions = true,
        description = {"Manage shared access policies: who may call the service API, with which rights.",
            "Rights: ServiceConfig (policies, CA certificates), EnrollmentRead, EnrollmentWrite, "
                    + "RegistrationStatusRead, RegistrationStatusWrite, DeviceConnect (stored, grants nothing here).",
            "Example: policy create enrollmentread --rights EnrollmentRead; policy connection-string enrollmentread"},
        subcommands = {PolicyCommand.ListAll.class, PolicyCommand.Show.class, PolicyCommand.Create.class,
            PolicyCommand.Update.class, PolicyCommand.Delete.class, PolicyCommand.RegenerateKey.class,
            PolicyCommand.ConnectionStringOf.class})
final class PolicyCommand {

    static final String PATH = "authorizationPolicies";

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the policies (without keys).")
    static final class ListAll implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin ServiceOptions service;

        @Override
        public Integer call() {
            JsonNode list = service.client().call("GET", PATH, null);
            PrintWriter out = spec.commandLine().getOut();
            if (list == null) {
                throw new IllegalStateException("the service answered the policy list without a body");
            }
            if (service.json) {
                Output.print(out, list, true);
                return 0;
            }
            String format = "%-40s %-28s %s%n";
            out.printf(format, "keyName", "updated", "rights");
            for (JsonNode p : list.path("value")) {
                out.printf(format, p.path("keyName").asText(), p.path("updated").asText(), p.path("rights").asText());
            }
            return 0;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show one policy (without keys).")
    static final class Show implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin ServiceOptions service;

        @Parameters(paramLabel = "NAME", description = "The policy's key name.")
        String name;

        @Override
        public Integer call() {
            print(spec, service, service.client().call("GET", path(name), null));
            return 0;
        }
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Create a policy and print it with its keys (generated unless given).")
    static final class Create implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin ServiceOptions service;
        @Mixin PolicyBody body;

        @Parameters(paramLabel = "NAME", description = "Key name: 1-64 characters A-Z a-z 0-9 _ - @ .")
        String name;

        @Override
        public Integer call() {
            print(spec, service, service.client().call("PUT", path(name), body.json(name), null));
            return 0;
        }
    }

    @Command(name = "update", mixinStandardHelpOptions = true,
            description = {"Replace a policy's rights (and keys, when given; otherwise they are kept).",
                "Refused for the last policy holding ServiceConfig if it would lose that right."})
    static final class Update implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin ServiceOptions service;
        @Mixin PolicyBody body;

        @Parameters(paramLabel = "NAME", description = "The policy's key name.")
        String name;

        @Option(names = "--if-match", paramLabel = "ETAG",
                description = "Update only this version ('*': any; default: the version read just before).")
        @Nullable String ifMatch;

        @Override
        public Integer call() {
            ServiceClient client = service.client();
            String etag = ifMatch != null ? ifMatch : current(client, name).path("etag").asText();
            print(spec, service, client.call("PUT", path(name), body.json(name), etag));
            return 0;
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true,
            description = "Delete a policy; its tokens stop working at once (refused for the last ServiceConfig one).")
    static final class Delete implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin ServiceOptions service;

        @Parameters(paramLabel = "NAME", description = "The policy's key name.")
        String name;

        @Option(names = "--if-match", paramLabel = "ETAG", description = "Delete only this version.")
        @Nullable String ifMatch;

        @Override
        public Integer call() {
            service.client().call("DELETE", path(name), null, ifMatch);
            spec.commandLine().getOut().println("Deleted access policy " + name);
            return 0;
        }
    }

    @Command(name = "regenerate-key", mixinStandardHelpOptions = true,
            description = {"Replace one key of a policy with a new random one; tokens signed with the old key stop "
                    + "working at once, the other key keeps working.",
                "Rotation: move clients to the secondary key, regenerate the primary, move them back, regenerate "
                        + "the secondary."})
    static final class RegenerateKey implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin ServiceOptions service;

        @Parameters(paramLabel = "NAME", description = "The policy's key name.")
        String name;

        @Option(names = "--key", required = true, paramLabel = "primary|secondary", description = "Which key.")
        String key;

        @Option(names = "--if-match", paramLabel = "ETAG", description = "Regenerate only on this version.")
        @Nullable String ifMatch;

        @Override
        public Integer call() {
            PolicyKey which;
            try {
                which = PolicyKey.parse(key);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--key: " + e.getMessage());
            }
            ServiceClient client = service.client();
            JsonNode p = client.call("POST", path(name) + "/regenerateKey", Map.of("keyName", which.wireName()),
                    ifMatch);
            print(spec, service, p);
            if (p != null) {
                warnIfOwnCredentialsChanged(spec, client.connection(), p);
            }
            return 0;
        }
    }

    @Command(name = "connection-string", mixinStandardHelpOptions = true,
            description = "Print a service connection string for a policy (this server's HostName, the policy's key).")
    static final class ConnectionStringOf implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin ServiceOptions service;

        @Parameters(paramLabel = "NAME", description = "The policy's key name.")
        String name;

        @Option(names = "--secondary", description = "Use the secondary key instead of the primary.")
        boolean secondary;

        @Override
        public Integer call() {
            ServiceClient client = service.client();
            JsonNode p = withKeys(client, name);
            String keyName = p.path("keyName").asText();
            String text = client.connection().text(keyName, p.path(secondary ? "secondaryKey" : "primaryKey")
                    .asText());
            PrintWriter out = spec.commandLine().getOut();
            if (service.json) {
                Map<String, String> m = new LinkedHashMap<>();
                m.put("keyName", keyName);
                m.put("connectionString", text);
                Output.print(out, Json.mapper().valueToTree(m), true);
            } else {
                out.println(text);
            }
            return 0;
        }
    }

    /** The {@code --rights} and key options of create and update. */
    static final class PolicyBody {
        @Option(names = "--rights", required = true, split = ",", paramLabel = "RIGHT",
                description = "Rights, comma-separated or repeated, e.g. EnrollmentRead,EnrollmentWrite.")
        List<String> rights;

        @Option(names = "--primary-key", paramLabel = "BASE64",
                description = "Primary key, base64 of 16-64 bytes (default: generated on create, kept on update).")
        @Nullable String primaryKey;

        @Option(names = "--secondary-key", paramLabel = "BASE64",
                description = "Secondary key (default: generated on create, kept on update).")
        @Nullable String secondaryKey;

        Map<String, Object> json(String name) {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("keyName", name);
            body.put("rights", rights.stream().map(String::trim).toList());
            if (primaryKey != null) {
                body.put("primaryKey", primaryKey);
            }
            if (secondaryKey != null) {
                body.put("secondaryKey", secondaryKey);
            }
            return body;
        }
    }

    private static JsonNode current(ServiceClient client, String name) {
        JsonNode p = client.call("GET", path(name), null);
        if (p == null) {
            throw new IllegalStateException("the service answered GET " + path(name) + " without a body");
        }
        return p;
    }

    private static JsonNode withKeys(ServiceClient client, String name) {
        JsonNode p = client.call("POST", path(name) + "/listkeys", null);
        if (p == null) {
            throw new IllegalStateException("the service answered listkeys without a body");
        }
        return p;
    }

    static String path(String name) {
        return PATH + "/" + URLEncoder.encode(name, StandardCharsets.UTF_8);
    }

    private static void print(CommandSpec spec, ServiceOptions service, @Nullable JsonNode policy) {
        if (policy != null) {
            Output.print(spec.commandLine().getOut(), policy, service.json);
        }
    }

    /** After a regeneration: say so when the key this command signed with is gone. */
    private static void warnIfOwnCredentialsChanged(CommandSpec spec, ConnectionString used, JsonNode policy) {
        String usedKey = Base64.getEncoder().encodeToString(used.key());
        if (used.keyName().equalsIgnoreCase(policy.path("keyName").asText())
                && !usedKey.equals(policy.path("primaryKey").asText())
                && !usedKey.equals(policy.path("secondaryKey").asText())) {
            spec.commandLine().getErr().println("Note: the key this command signed with was replaced. With "
                    + "--data-dir the server has updated service.json; a --connection-string must be replaced: "
                    + "./opendps policy connection-string " + policy.path("keyName").asText());
        }
    }
}
