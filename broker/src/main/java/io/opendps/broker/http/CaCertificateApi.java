package io.opendps.broker.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.opendps.core.ca.CaCertificate;
import io.opendps.core.ca.CaCertificatePut;
import io.opendps.core.ca.CaCertificateService;
import io.opendps.core.ca.CaVerificationCode;
import io.opendps.core.error.ErrorCode;
import io.opendps.core.error.ProvisioningException;
import io.opendps.core.x509.CertificateCodec;
import java.security.cert.CertificateEncodingException;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * CA certificates with proof of possession ({@code dps-service-api.md} §14). In Azure these live on the ARM plane;
 * OpenDPS serves them on its own API with the ARM JSON envelopes ({@code properties}, {@code etag},
 * {@code value}), at {@code /certificates/{name}} and also under the verbatim ARM prefix
 * {@code /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Devices/provisioningServices/{dps}}
 * (its variable parts are ignored). Every operation needs the {@code ServiceConfig} right.
 *
 * <ul>
 *   <li>{@code PUT /certificates/{name}} {@code {"properties":{"certificate":"<PEM or base64 DER>","isVerified":false}}}
 *       → 201 created / 200 replaced</li>
 *   <li>{@code GET /certificates} → {@code {"value":[...]}}; {@code GET /certificates/{name}}</li>
 *   <li>{@code POST /certificates/{name}/generateVerificationCode} → the certificate with
 *       {@code properties.verificationCode}</li>
 *   <li>{@code POST /certificates/{name}/verify} {@code {"certificate":"<verification certificate>"}} → verified</li>
 *   <li>{@code DELETE /certificates/{name}} → 204</li>
 * </ul>
 * ARM requires {@code If-Match} on delete, generateVerificationCode and verify; OpenDPS checks it when sent and
 * treats its absence as unconditional, so simple tools work. Thread-safe; synchronous.
 */
final class CaCertificateApi {

    private static final String TYPE = "Microsoft.Devices/ProvisioningServices/Certificates";
    private static final DateTimeFormatter RFC_1123 = DateTimeFormatter.RFC_1123_DATE_TIME.withZone(ZoneOffset.UTC);

    private final CaCertificateService service;

    CaCertificateApi(CaCertificateService service) {
        this.service = Objects.requireNonNull(service, "service");
    }

    /** Handles a request whose path, after any ARM prefix, starts with {@code certificates}. */
    ApiResponse handle(ApiRequest r, List<String> path) {
        String ifMatch = r.header("If-Match");
        if (path.size() == 1) {
            if (!r.method().equals("GET")) {
                throw notAllowed(r);
            }
            return ApiResponse.json(200, Map.of("value", service.list().stream().map(c -> envelope(c, null)).toList()),
                    Map.of());
        }
        String name = path.get(1);
        String action = path.size() == 3 ? path.get(2).toLowerCase(java.util.Locale.ROOT) : "";
        if ((action.equals("generateverificationcode") || action.equals("verify")) && !r.method().equals("POST")) {
            throw notAllowed(r); // the actions exist, as POST only (like attestationmechanism)
        }
        if (path.size() == 3 && r.method().equals("POST")) {
            if (action.equals("generateverificationcode")) {
                CaVerificationCode code = service.generateVerificationCode(name, ifMatch);
                return json(200, envelope(code.certificate(), code), code.certificate().etag());
            }
            if (action.equals("verify")) {
                CaCertificate verified = service.verify(name, ifMatch, certificateText(r, false));
                return json(200, envelope(verified, null), verified.etag());
            }
        }
        if (path.size() != 2) {
            throw new ProvisioningException(ErrorCode.NOT_FOUND, "no such resource: /%s", String.join("/", path));
        }
        switch (r.method()) {
            case "GET" -> {
                CaCertificate c = service.get(name);
                return json(200, envelope(c, null), c.etag());
            }
            case "PUT" -> {
                CaCertificatePut put = service.put(name, certificateText(r, true), isVerified(r), ifMatch);
                return json(put.created() ? 201 : 200, envelope(put.certificate(), null), put.certificate().etag());
            }
            case "DELETE" -> {
                service.delete(name, ifMatch);
                return ApiResponse.noContent();
            }
            default -> throw notAllowed(r);
        }
    }

    /** Strips the ARM prefix ({@code subscriptions/../provisioningServices/{dps}}) when present. */
    static List<String> withoutArmPrefix(List<String> segments) {
        if (segments.size() >= 8 && segments.get(0).equalsIgnoreCase("subscriptions")
                && segments.get(2).equalsIgnoreCase("resourceGroups") && segments.get(4).equalsIgnoreCase("providers")
                && segments.get(6).equalsIgnoreCase("provisioningServices")) {
            return segments.subList(8, segments.size());
        }
        return segments;
    }

    private static Map<String, Object> envelope(CaCertificate c, @Nullable CaVerificationCode code) {
        Map<String, Object> properties = new LinkedHashMap<>();
        properties.put("subject", c.subject());
        properties.put("expiry", RFC_1123.format(c.expiry()));
        properties.put("thumbprint", c.thumbprint());
        properties.put("isVerified", c.isVerified());
        properties.put("certificate", base64Der(c.certificate()));
        properties.put("created", RFC_1123.format(c.created()));
        properties.put("updated", RFC_1123.format(c.updated()));
        if (code != null) {
            properties.put("verificationCode", code.verificationCode());
            properties.put("verificationCodeExpiry", RFC_1123.format(code.expiresAt()));
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", "/certificates/" + c.name());
        m.put("name", c.name());
        m.put("type", TYPE);
        m.put("etag", c.etag());
        m.put("properties", properties);
        return m;
    }

    private static ApiResponse json(int status, Object body, String etag) {
        return ApiResponse.json(status, body, Map.of("ETag", etag));
    }

    /** The certificate text: ARM's {@code properties.certificate}, or a flat {@code certificate} field. */
    private static String certificateText(ApiRequest r, boolean armEnvelope) {
        JsonNode body = ServiceApi.parse(r, JsonNode.class);
        JsonNode text = armEnvelope && body.has("properties") ? body.path("properties").path("certificate")
                : body.path("certificate");
        if (!text.isTextual() || text.asText().isBlank()) {
            throw new ProvisioningException(ErrorCode.INVALID_REQUEST_BODY, armEnvelope
                    ? "the body needs {\"properties\":{\"certificate\":\"<PEM or base64 DER>\"}}"
                    : "the body needs {\"certificate\":\"<verification certificate, PEM or base64 DER>\"}");
        }
        return text.asText();
    }

    private static boolean isVerified(ApiRequest r) {
        JsonNode body = ServiceApi.parse(r, JsonNode.class);
        JsonNode v = body.path("properties").path("isVerified");
        return v.isBoolean() ? v.asBoolean() : body.path("isVerified").asBoolean(false);
    }

    private static String base64Der(String pem) {
        try {
            return Base64.getEncoder().encodeToString(CertificateCodec.parse(pem).getEncoded());
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException("stored CA certificate cannot be encoded", e);
        }
    }

    private static ProvisioningException notAllowed(ApiRequest r) {
        return new ProvisioningException(ErrorCode.METHOD_NOT_ALLOWED, "%s is not allowed on /%s", r.method(),
                String.join("/", r.segments()));
    }
}
