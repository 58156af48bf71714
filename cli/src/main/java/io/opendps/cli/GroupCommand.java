package io.opendps.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.opendps.core.enrollment.AttestationMechanism;
import io.opendps.core.enrollment.EnrollmentGroup;
import io.opendps.core.enrollment.ProvisioningStatus;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code opendps group create|show|delete|list}: enrollment groups through the service API. */
@Command(name = "group", mixinStandardHelpOptions = true,
        description = {"Manage enrollment groups: symmetric key (devices use keys derived from the group key) or "
                + "X.509 (devices whose certificates chain to the group's CA)."},
        subcommands = {GroupCommand.Create.class, GroupCommand.Show.class, GroupCommand.Delete.class,
            GroupCommand.ListAll.class})
final class GroupCommand {

    static final String COLLECTION = "enrollmentGroups";

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = {"Create an enrollment group and print it (with its keys, for symmetric keys).",
                "X.509 groups: --ca-certificate uploads a root or intermediate CA with the group; --ca-reference "
                        + "names a CA certificate registered (and verified) with 'opendps ca'."})
    static final class Create implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin ServiceOptions service;

        @Option(names = "--group-id", required = true, description = "The enrollment group id.")
        String groupId;

        @Option(names = "--symmetric-key", description = "Primary group key, base64 of 16-64 bytes "
                + "(default: generated).")
        @Nullable String primaryKey;

        @Option(names = "--secondary-key", description = "Secondary group key (default: generated).")
        @Nullable String secondaryKey;

        @Option(names = "--ca-certificate", paramLabel = "PEM",
                description = "X.509 group: the root or intermediate CA certificate devices chain to.")
        @Nullable Path caCertificate;

        @Option(names = "--ca-reference", paramLabel = "NAME",
                description = "X.509 group: a CA certificate registered with 'opendps ca upload' and verified.")
        @Nullable String caReference;

        @Option(names = "--hub", description = "Assign the group's devices to this linked hub.")
        @Nullable String hub;

        @Option(names = "--disabled", description = "Create the group disabled.")
        boolean disabled;

        @Override
        public Integer call() {
            int kinds = (caCertificate != null ? 1 : 0) + (caReference != null ? 1 : 0)
                    + (primaryKey != null || secondaryKey != null ? 1 : 0);
            if (kinds > 1) {
                throw new IllegalArgumentException("use one of --ca-certificate, --ca-reference or "
                        + "--symmetric-key/--secondary-key: a group uses one attestation");
            }
            AttestationMechanism attestation = caCertificate != null
                    ? Attestations.signingCertificates(caCertificate, null)
                    : caReference != null ? Attestations.caReferences(caReference, null)
                    : AttestationMechanism.symmetricKey(primaryKey, secondaryKey);
            EnrollmentGroup body = new EnrollmentGroup(groupId, attestation, null, hub, null, null,
                    disabled ? ProvisioningStatus.DISABLED
                    : ProvisioningStatus.ENABLED, null, null, null, null, null, null);
            Output.print(spec.commandLine().getOut(), service.client().put(COLLECTION, groupId, body), service.json);
            return 0;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show an enrollment group.")
    static final class Show implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin ServiceOptions service;

        @Parameters(paramLabel = "GROUP_ID", description = "The enrollment group id.")
        String groupId;

        @Option(names = "--keys", description = "Also print the group keys.")
        boolean keys;

        @Override
        public Integer call() {
            ServiceClient client = service.client();
            JsonNode g = client.get(COLLECTION, groupId);
            if (keys && g.isObject()) {
                ((com.fasterxml.jackson.databind.node.ObjectNode) g).set("attestation",
                        client.attestation(COLLECTION, groupId));
            }
            Output.print(spec.commandLine().getOut(), g, service.json);
            return 0;
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true,
            description = "Delete an enrollment group (its devices' registration records stay).")
    static final class Delete implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin ServiceOptions service;

        @Parameters(paramLabel = "GROUP_ID", description = "The enrollment group id.")
        String groupId;

        @Override
        public Integer call() {
            service.client().delete(COLLECTION, groupId);
            spec.commandLine().getOut().println("Deleted enrollment group " + groupId);
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List all enrollment groups.")
    static final class ListAll implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin ServiceOptions service;

        @Override
        public Integer call() {
            List<JsonNode> items = service.client().queryAll(COLLECTION);
            Listing.print(spec.commandLine().getOut(), items, service.json, "enrollmentGroupId",
                    "No enrollment groups.");
            return 0;
        }
    }
}
