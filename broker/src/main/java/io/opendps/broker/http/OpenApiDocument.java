package io.opendps.broker.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.opendps.core.error.ErrorCode;
import io.opendps.core.error.ProvisioningException;
import io.opendps.core.json.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The OpenAPI document of the service API, served at {@code GET /openapi.yaml} (the resource
 * {@code io/opendps/broker/http/openapi.yaml}, byte for byte: the single source, kept next to the code and checked
 * by the contract tests) and {@code GET /openapi.json} (the same document converted with Jackson's YAML module).
 *
 * <p>Decision: both are answered without authorization and without {@code api-version}. The document is the public
 * wire contract, holds no secrets and nothing about this instance, and tools (code generators, Swagger UI) fetch
 * it without credentials. It is served unchanged rather than with this server's URL injected into
 * {@code servers}: the document says {@code servers: [{url: /}]}, which resolves against wherever it was fetched
 * from, so the served bytes are exactly the ones the tests validated.
 *
 * <p>Immutable and thread-safe; loaded once. A missing or unreadable resource is a build defect and fails class
 * initialisation.
 */
final class OpenApiDocument {

    /** The classpath resource holding the document. */
    static final String RESOURCE = "/io/opendps/broker/http/openapi.yaml";
    static final String YAML_PATH = "openapi.yaml";
    static final String JSON_PATH = "openapi.json";
    static final String YAML_CONTENT_TYPE = "application/yaml; charset=utf-8";

    private static final OpenApiDocument INSTANCE = load();

    private final byte[] yaml;
    private final byte[] json;

    private OpenApiDocument(byte[] yaml, byte[] json) {
        this.yaml = yaml;
        this.json = json;
    }

    /** The document, loaded once. */
    static OpenApiDocument instance() {
        return INSTANCE;
    }

    /** Whether a request path names the document ({@code /openapi.yaml} or {@code /openapi.json}, any case). */
    static boolean serves(List<String> segments) {
        if (segments.size() != 1) {
            return false;
        }
        String name = segments.get(0).toLowerCase(Locale.ROOT);
        return name.equals(YAML_PATH) || name.equals(JSON_PATH);
    }

    /** Answers a request for which {@link #serves} holds: GET only, else 405. */
    ApiResponse answer(ApiRequest r) {
        if (!r.method().equals("GET")) {
            throw new ProvisioningException(ErrorCode.METHOD_NOT_ALLOWED, "%s is not allowed on /%s; use GET",
                    r.method(), r.segments().get(0));
        }
        boolean asYaml = r.segmentLower(0).equals(YAML_PATH);
        return new ApiResponse(200, Map.of("Content-Type", asYaml ? YAML_CONTENT_TYPE : ApiResponse.JSON),
                (asYaml ? yaml : json).clone());
    }

    private static OpenApiDocument load() {
        try (InputStream in = OpenApiDocument.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the OpenAPI document " + RESOURCE + " is missing from the classpath");
            }
            byte[] yaml = in.readAllBytes();
            JsonNode tree = new YAMLMapper().readTree(yaml);
            return new OpenApiDocument(yaml, Json.mapper().writeValueAsBytes(tree));
        } catch (IOException e) {
            throw new UncheckedIOException("the OpenAPI document " + RESOURCE + " cannot be read", e);
        }
    }
}
