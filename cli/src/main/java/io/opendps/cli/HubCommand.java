package io.opendps.cli;

import picocli.CommandLine.Command;

/** {@code opendps hub}: the linked hubs and what runs on them; each subcommand is its own class. */
@Command(name = "hub", mixinStandardHelpOptions = true,
        description = "Linked hubs: list, add, update, remove, and the service's default allocation policy.",
        subcommands = {LinkedHubCommands.ListAll.class, LinkedHubCommands.Add.class, LinkedHubCommands.Update.class,
            LinkedHubCommands.Remove.class, LinkedHubCommands.DefaultPolicy.class})
final class HubCommand {
}
