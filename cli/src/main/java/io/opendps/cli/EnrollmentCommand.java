package io.opendps.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.opendps.core.enrollment.AttestationMechanism;
import io.opendps.core.enrollment.IndividualEnrollment;
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

/** {@code opendps enrollment create|show|delete|list}: individual enrollments through the service API. */
@Command(name = "enrollment", mixinStandardHelpOptions = true,
        description = "Manage individual enrollments (symmetric key or X.509 device certificate).",
        subcommands = {EnrollmentCommand.Create.class, EnrollmentCommand.Show.class, EnrollmentCommand.Delete.class,
            EnrollmentCommand.ListAll.class})
final class EnrollmentCommand {

    static final String COLLECTION = "enrollments";

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = {"Create an individual enrollment and print it (with its keys, for symmetric keys).",
                "With --certificate the device authenticates with that X.509 certificate (its subject CN must be "
                        + "the registration id); with --endorsement-key with its TPM; otherwise with a symmetric "
                        + "key."})
    static final class Create implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin ServiceOptions service;

        @Option(names = "--registration-id", required = true, description = "The device's registration id.")
        String registrationId;

        @Option(names = "--device-id", description = "IoT Hub device id (default: the registration id).")
        @Nullable String deviceId;

        @Option(names = "--symmetric-key", description = "Primary key, base64 of 16-64 bytes (default: generated).")
        @Nullable String primaryKey;

        @Option(names = "--secondary-key", description = "Secondary key (default: generated).")
        @Nullable String secondaryKey;

        @Option(names = "--certificate", paramLabel = "PEM",
                description = "X.509 attestation: the device's certificate (PEM or base64 DER file).")
        @Nullable Path certificate;

        @Option(names = "--secondary-certificate", paramLabel = "PEM",
                description = "A second accepted device certificate (e.g. during rollover).")
        @Nullable Path secondaryCertificate;

        @Option(names = "--endorsement-key", paramLabel = "BASE64",
                description = "TPM attestation: the TPM's endorsement key, base64 TPM2B_PUBLIC (as 'opendps device "
                        + "tpm-info' prints it).")
        @Nullable String endorsementKey;

        @Option(names = "--hub", description = "Assign devices of this enrollment to this linked hub.")
        @Nullable String hub;

        @Option(names = "--disabled", description = "Create the enrollment disabled (also how one device of a "
                + "group is revoked: a disabled enrollment for its certificate).")
        boolean disabled;

        @Override
        public Integer call() {
            if (endorsementKey != null && (certificate != null || primaryKey != null || secondaryKey != null)) {
                throw new IllegalArgumentException("--endorsement-key, --certificate and --symmetric-key are "
                        + "mutually exclusive: an enrollment uses one attestation");
            }
            if (certificate != null && (primaryKey != null || secondaryKey != null)) {
                throw new IllegalArgumentException("--certificate and --symmetric-key/--secondary-key are mutually "
                        + "exclusive: an enrollment uses one attestation");
            }
            if (certificate == null && secondaryCertificate != null) {
                throw new IllegalArgumentException("--secondary-certificate needs --certificate");
            }
            AttestationMechanism attestation = endorsementKey != null
                    ? AttestationMechanism.tpm(endorsementKey, null)
                    : certificate != null
                    ? Attestations.clientCertificates(certificate, secondaryCertificate)
                    : AttestationMechanism.symmetricKey(primaryKey, secondaryKey);
            IndividualEnrollment body = new IndividualEnrollment(registrationId, deviceId, null,
                    attestation, null, hub, null, null,
                    disabled ? ProvisioningStatus.DISABLED : ProvisioningStatus.ENABLED, null, null, null, null,
                    null, null, null);
            JsonNode created = service.client().put(COLLECTION, registrationId, body);
            Output.print(spec.commandLine().getOut(), created, service.json);
            return 0;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true,
            description = "Show an enrollment (keys only with --keys) and the device's registration state.")
    static final class Show implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin ServiceOptions service;

        @Parameters(paramLabel = "REGISTRATION_ID", description = "The registration id.")
        String registrationId;

        @Option(names = "--keys", description = "Also print the attestation keys.")
        boolean keys;

        @Override
        public Integer call() {
            ServiceClient client = service.client();
            JsonNode e = client.get(COLLECTION, registrationId);
            if (keys && e.isObject()) {
                ((com.fasterxml.jackson.databind.node.ObjectNode) e).set("attestation",
                        client.attestation(COLLECTION, registrationId));
            }
            Output.print(spec.commandLine().getOut(), e, service.json);
            return 0;
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true,
            description = "Delete an enrollment and its registration record.")
    static final class Delete implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin ServiceOptions service;

        @Parameters(paramLabel = "REGISTRATION_ID", description = "The registration id.")
        String registrationId;

        @Override
        public Integer call() {
            service.client().delete(COLLECTION, registrationId);
            spec.commandLine().getOut().println("Deleted enrollment " + registrationId);
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List all individual enrollments.")
    static final class ListAll implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin ServiceOptions service;

        @Override
        public Integer call() {
            List<JsonNode> items = service.client().queryAll(COLLECTION);
            Listing.print(spec.commandLine().getOut(), items, service.json, "registrationId",
                    "No individual enrollments.");
            return 0;
        }
    }
}
