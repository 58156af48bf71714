package io.opendps.cli;

import io.opendps.broker.PortUnavailableException;
import io.opendps.core.error.ProvisioningException;
import io.opendps.sim.DeviceCommand;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;

/** The {@code opendps} launcher's entry point. */
@Command(name = "opendps", mixinStandardHelpOptions = true, version = "OpenDPS 0.1.0",
        description = "A self-hosted device provisioning service speaking the Azure IoT Hub DPS protocols.",
        subcommands = {ServeCommand.class, InfoCommand.class, EnrollmentCommand.class, GroupCommand.class,
            RegistrationCommand.class, BulkCommand.class, QueryCommand.class, PolicyCommand.class, HubCommand.class,
            DeriveKeyCommand.class, CaCommand.class, CertCommand.class, DeviceCommand.class, DemoCommand.class, HelpCommand.class})
public final class OpenDpsMain {

    private OpenDpsMain() {
    }

    /** Our logging configuration; the HiveMQ jar ships a {@code logback.xml} of its own, so ours has its own name. */
    static final String LOGBACK_CONFIG = "opendps-logback.xml";

    /** Runs the command line and exits with its code. */
    public static void main(String[] args) {
        if (System.getProperty("logback.configurationFile") == null) {
            System.setProperty("logback.configurationFile", LOGBACK_CONFIG);
        }
        System.exit(commandLine().execute(args));
    }

    /** The configured command line (tests drive it with their own writers). */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(OpenDpsMain.class);
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            PrintWriter err = commandLine.getErr();
            if (isUserError(e)) {
                err.println("opendps: " + e.getMessage());
                return 1;
            }
            err.println("opendps: unexpected error: " + e);
            e.printStackTrace(err);
            return 70;
        });
        return cl;
    }

    private static boolean isUserError(Exception e) {
        return e instanceof ServiceClient.ApiException || e instanceof PortUnavailableException
                || e instanceof ProvisioningException || e instanceof IllegalArgumentException
                || e instanceof IllegalStateException || e instanceof java.io.UncheckedIOException;
    }
}
