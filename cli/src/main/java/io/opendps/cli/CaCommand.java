package io.opendps.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
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
 * {@code opendps ca}: CA certificates registered with the service, and their proof of possession (upload → code →
 * verification certificate signed by the CA → verified). Enrollment groups reference verified CAs by name.
 */
@Command(name = "ca", mixinStandardHelpOptions = true,
        description = {"Manage CA certificates registered with the service and prove possession of their keys.",
            "Flow: ca upload NAME ca.pem; ca verification-code NAME; cert verification --code CODE --ca ca.pem "
                    + "--ca-key ca.key.pem; ca verify NAME verification-CODE.pem; then group create "
                    + "--ca-reference NAME."},
        subcommands = {CaCommand.Upload.class, CaCommand.VerificationCode.class, CaCommand.Verify.class,
            CaCommand.ListAll.class, CaCommand.Show.class, CaCommand.Delete.class})
final class CaCommand {

    static final String PATH = "certificates/";

    @Command(name = "upload", mixinStandardHelpOptions = true,
            description = "Register (or replace) a root or intermediate CA certificate; it starts unverified.")
    static final class Upload implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin ServiceOptions service;

        @Parameters(index = "0", paramLabel = "NAME", description = "The name groups will reference.")
        String name;

        @Parameters(index = "1", paramLabel = "PEM", description = "The CA certificate (PEM or base64 DER file).")
        Path file;

        @Option(names = "--verified", description = "Ask to store it verified without proof of possession; only "
                + "accepted by a server started with --auto-verify-ca.")
        boolean verified;

        @Option(names = "--if-match", paramLabel = "ETAG", description = "Replace only this version ('*': any).")
        @Nullable String ifMatch;

        @Override
        public Integer call() {
            Map<String, Object> properties = new LinkedHashMap<>();
            properties.put("certificate", Attestations.read(file));
            properties.put("isVerified", verified);
            JsonNode c = service.client().call("PUT", PATH + name, Map.of("properties", properties), ifMatch);
            print(spec, service, c);
            return 0;
        }
    }

    @Command(name = "verification-code", mixinStandardHelpOptions = true,
            description = "Get a verification code for proof of possession (valid for one hour, single use).")
    static final class VerificationCode implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin ServiceOptions service;

        @Parameters(paramLabel = "NAME", description = "The CA certificate's name.")
        String name;

        @Override
        public Integer call() {
            JsonNode c = service.client().call("POST", PATH + name + "/generateVerificationCode", Map.of());
            if (service.json) {
                Output.print(spec.commandLine().getOut(), c, true);
                return 0;
            }
            String code = c.path("properties").path("verificationCode").asText();
            PrintWriter out = spec.commandLine().getOut();
            out.println(code);
            out.println("Sign a certificate with CN=" + code + " using the CA's key, e.g.");
            out.println("  ./opendps cert verification --code " + code + " --ca <ca.pem> --ca-key <ca.key.pem>");
            out.println("then: ./opendps ca verify " + name + " verification-" + code + ".pem");
            return 0;
        }
    }

    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = "Prove possession: upload the verification certificate (CN = the code, signed by the CA).")
    static final class Verify implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin ServiceOptions service;

        @Parameters(index = "0", paramLabel = "NAME", description = "The CA certificate's name.")
        String name;

        @Parameters(index = "1", paramLabel = "PEM", description = "The verification certificate.")
        Path file;

        @Override
        public Integer call() {
            JsonNode c = service.client().call("POST", PATH + name + "/verify",
                    Map.of("certificate", Attestations.read(file)));
            print(spec, service, c);
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the registered CA certificates.")
    static final class ListAll implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin ServiceOptions service;

        @Override
        public Integer call() {
            JsonNode list = service.client().call("GET", "certificates", null);
            PrintWriter out = spec.commandLine().getOut();
            if (service.json) {
                Output.print(out, list, true);
                return 0;
            }
            if (list.path("value").isEmpty()) {
                out.println("No CA certificates.");
                return 0;
            }
            String format = "%-32s %-9s %-42s %s%n";
            out.printf(format, "name", "verified", "thumbprint", "subject");
            for (JsonNode c : list.path("value")) {
                JsonNode p = c.path("properties");
                out.printf(format, c.path("name").asText(), p.path("isVerified").asBoolean() ? "yes" : "no",
                        p.path("thumbprint").asText(), p.path("subject").asText());
            }
            return 0;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show one CA certificate.")
    static final class Show implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin ServiceOptions service;

        @Parameters(paramLabel = "NAME", description = "The CA certificate's name.")
        String name;

        @Override
        public Integer call() {
            print(spec, service, service.client().call("GET", PATH + name, null));
            return 0;
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true,
            description = "Delete a CA certificate (refused while an enrollment group references it).")
    static final class Delete implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin ServiceOptions service;

        @Parameters(paramLabel = "NAME", description = "The CA certificate's name.")
        String name;

        @Override
        public Integer call() {
            service.client().call("DELETE", PATH + name, null);
            spec.commandLine().getOut().println("Deleted CA certificate " + name);
            return 0;
        }
    }

    private static void print(CommandSpec spec, ServiceOptions service, @Nullable JsonNode c) {
        if (c == null) {
            return;
        }
        if (service.json) {
            Output.print(spec.commandLine().getOut(), c, true);
            return;
        }
        JsonNode p = c.path("properties");
        PrintWriter out = spec.commandLine().getOut();
        out.println("name: " + c.path("name").asText());
        out.println("subject: " + p.path("subject").asText());
        out.println("thumbprint: " + p.path("thumbprint").asText());
        out.println("verified: " + p.path("isVerified").asBoolean());
        out.println("expiry: " + p.path("expiry").asText());
        out.println("etag: " + c.path("etag").asText());
    }
}
