package io.opendps.sim;

import io.opendps.core.json.Json;
import io.opendps.core.tpm.TpmAttestor;
import io.opendps.core.tpm.TpmCrypto;
import java.io.PrintWriter;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code device tpm-info}: prints the TPM's endorsement key (base64 {@code TPM2B_PUBLIC}, the value an individual
 * enrollment needs) and the registration id derived from it, as the Azure SDKs' {@code tpm_device_provision} tool
 * does. Creates the EK and SRK with the standard templates when the TPM has none.
 */
@Command(
        name = "tpm-info",
        description = {
            "Print the endorsement key (base64 TPM2B_PUBLIC) and the registration id derived from it "
                    + "(base32 of SHA-256 of the EK, as the Azure SDKs compute it) of a TPM 2.0 reached through "
                    + "tpm2-tools, for creating the device's individual enrollment. Creates the EK (0x81010001) and "
                    + "SRK (0x81000001) with the Azure SDK templates when they are absent."
        },
        mixinStandardHelpOptions = true,
        sortOptions = false,
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:Printed.", "1:The TPM could not be used.", "2:Invalid options."},
        footerHeading = "%nExamples:%n",
        footer = {"  device tpm-info --tcti swtpm:host=127.0.0.1,port=2321"})
public final class TpmInfoCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--tcti", paramLabel = "TCTI", defaultValue = "${env:TPM2TOOLS_TCTI}",
            description = {"The tpm2-tools TCTI, e.g. swtpm:host=127.0.0.1,port=2321 or device:/dev/tpmrm0. "
                + "Environment: TPM2TOOLS_TCTI. Default: the tools' default."})
    private @Nullable String tcti;

    @Option(names = "--json", description = {"Print registrationId, endorsementKey and storageRootKey as JSON."})
    private boolean json;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (Tpm2Tools tools = new Tpm2Tools(tcti)) {
            byte[] ek = tools.endorsementKey();
            byte[] srk = tools.storageRootKey();
            String registrationId = TpmCrypto.registrationId(ek);
            if (json) {
                Map<String, String> info = new LinkedHashMap<>();
                info.put("registrationId", registrationId);
                info.put("endorsementKey", Base64.getEncoder().encodeToString(ek));
                info.put("storageRootKey", Base64.getEncoder().encodeToString(srk));
                out.println(new String(Json.toBytes(info), java.nio.charset.StandardCharsets.UTF_8));
            } else {
                out.println("Registration Id:");
                out.println(registrationId);
                out.println();
                out.println("Endorsement Key:");
                out.println(Base64.getEncoder().encodeToString(ek));
                out.println();
                out.println("EK SHA-256: " + TpmAttestor.ekSha256(ek));
            }
            out.flush();
            return 0;
        } catch (Tpm2Tools.TpmException e) {
            err.println("Cannot use the TPM: " + e.getMessage());
            err.flush();
            return 1;
        }
    }
}
