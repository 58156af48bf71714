package io.opendps.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code opendps registration show|delete|list|reprovision}: device registration records through the service API.
 * Deleting a record makes the device's next registration a first-time assignment; it does not touch the hub.
 * Reprovisioning marks the record so the device's next registration runs allocation again and moves it if its hub
 * changed.
 */
@Command(name = "registration", mixinStandardHelpOptions = true,
        description = "Show, delete and list device registration records (what each device was assigned).",
        subcommands = {RegistrationCommand.Show.class, RegistrationCommand.Delete.class,
            RegistrationCommand.ListGroup.class, RegistrationCommand.Reprovision.class})
final class RegistrationCommand {

    static final String COLLECTION = "registrations";

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show a device's registration record.")
    static final class Show implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin ServiceOptions service;

        @Parameters(paramLabel = "REGISTRATION_ID", description = "The device's registration id.")
        String registrationId;

        @Override
        public Integer call() {
            Output.print(spec.commandLine().getOut(), service.client().get(COLLECTION, registrationId), service.json);
            return 0;
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true,
            description = {"Delete a device's registration record: its next registration starts afresh "
                    + "(allocation and device id evaluated again). The hub's device identity is not touched."})
    static final class Delete implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin ServiceOptions service;

        @Parameters(paramLabel = "REGISTRATION_ID", description = "The device's registration id.")
        String registrationId;

        @Option(names = "--if-match", paramLabel = "ETAG", description = "Delete only this version of the record.")
        @Nullable String ifMatch;

        @Override
        public Integer call() {
            service.client().call("DELETE", COLLECTION + "/" + URLEncoder.encode(registrationId,
                    StandardCharsets.UTF_8), null, ifMatch);
            spec.commandLine().getOut().println("Deleted the registration record of " + registrationId);
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "List the registration records of the devices of an enrollment group.")
    static final class ListGroup implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin ServiceOptions service;

        @Option(names = "--group-id", required = true, description = "The enrollment group (records outlive it).")
        String groupId;

        @Override
        public Integer call() {
            List<JsonNode> items = service.client().queryAll(COLLECTION + "/"
                    + URLEncoder.encode(groupId, StandardCharsets.UTF_8));
            Listing.printRegistrations(spec.commandLine().getOut(), items, service.json,
                    "No registration records for group " + groupId + ".");
            return 0;
        }
    }

    @Command(name = "reprovision", mixinStandardHelpOptions = true,
            description = {"Make the device's next registration run allocation again on the current enrollment "
                    + "and linked hubs, whatever its reprovision policy: it moves if it gets another hub (its twin "
                    + "migrated, or reset to the initial twin under the reset policy), else it stays."})
    static final class Reprovision implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin ServiceOptions service;

        @Parameters(paramLabel = "REGISTRATION_ID", description = "The device's registration id.")
        String registrationId;

        @Override
        public Integer call() {
            service.client().call("POST", COLLECTION + "/" + URLEncoder.encode(registrationId,
                    StandardCharsets.UTF_8) + "/reprovision", null);
            spec.commandLine().getOut().println("Marked " + registrationId + " for reprovisioning: its next "
                    + "registration runs allocation again");
            return 0;
        }
    }
}
