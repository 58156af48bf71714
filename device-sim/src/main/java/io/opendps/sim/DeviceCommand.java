package io.opendps.sim;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code device}: act as a DPS device against OpenDPS (or Azure DPS). Only groups its subcommands; runs standalone
 * through {@link #main(String[])} or mounted under the {@code opendps} command.
 */
@Command(
        name = "device",
        description = {
            "Act as a device of the Device Provisioning Service: an independent MQTT client (not the Azure SDK) "
                    + "that speaks the DPS device protocol to OpenDPS or to Azure DPS."
        },
        version = "opendps device-sim 0.1",
        subcommands = {ProvisionCommand.class, TpmInfoCommand.class, LoadCommand.class},
        mixinStandardHelpOptions = true,
        commandListHeading = "%nCommands:%n")
public final class DeviceCommand implements Runnable {

    @Spec
    private CommandSpec spec;

    /** Without a subcommand there is nothing to do: a usage error (exit code 2). */
    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing subcommand: try 'device provision --help'");
    }

    /**
     * Runs {@code device ...} and exits with its exit code.
     *
     * @param args the command line
     */
    public static void main(String[] args) {
        System.exit(new CommandLine(new DeviceCommand()).execute(args));
    }
}
