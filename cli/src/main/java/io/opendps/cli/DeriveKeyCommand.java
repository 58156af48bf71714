package io.opendps.cli;

import io.opendps.core.json.Json;
import io.opendps.core.sas.DerivedKeys;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code opendps derive-key}: the device key of a group member, as the Azure samples compute it. */
@Command(name = "derive-key", mixinStandardHelpOptions = true,
        description = "Derive a device key from an enrollment group key: base64(HMAC-SHA256(groupKey, registrationId)).")
final class DeriveKeyCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Option(names = "--group-key", required = true, description = "The group's primary or secondary key (base64).")
    String groupKey;

    @Option(names = "--registration-id", required = true, description = "The device's registration id (case matters).")
    String registrationId;

    @Option(names = "--json", description = "Print {\"registrationId\":..., \"deviceKey\":...}.")
    boolean json;

    @Override
    public Integer call() {
        String key = DerivedKeys.deriveBase64(groupKey, registrationId);
        if (json) {
            Map<String, String> m = new LinkedHashMap<>();
            m.put("registrationId", registrationId);
            m.put("deviceKey", key);
            spec.commandLine().getOut().println(Json.toText(m));
        } else {
            spec.commandLine().getOut().println(key);
        }
        return 0;
    }
}
