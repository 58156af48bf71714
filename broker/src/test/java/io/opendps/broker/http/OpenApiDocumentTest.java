package io.opendps.broker.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.opendps.core.service.AccessRight;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The OpenAPI document itself: it parses cleanly with the Swagger parser (no errors, no warnings, all references
 * resolved), names the required right of every secured operation, documents the error answers every secured
 * operation can give with the Azure error body, and is served as kept in the repository.
 */
class OpenApiDocumentTest {

    private static final Set<String> OPEN_PATHS = Set.of("/openapi.yaml", "/openapi.json");

    @Test
    void document_parsesWithoutErrorsOrWarnings() throws IOException {
        SwaggerParseResult plain = new OpenAPIV3Parser().readContents(resourceText(), null, new ParseOptions());
        ParseOptions resolving = new ParseOptions();
        resolving.setResolve(true);
        resolving.setResolveFully(true);
        SwaggerParseResult resolved = new OpenAPIV3Parser().readContents(resourceText(), null, resolving);

        assertThat(plain.getMessages()).as("parser messages").isEmpty();
        assertThat(resolved.getMessages()).as("parser messages when resolving references").isEmpty();
        assertThat(plain.getOpenAPI().getOpenapi()).isEqualTo("3.0.3");
        assertThat(plain.getOpenAPI().getPaths()).isNotEmpty();
    }

    @Test
    void securedOperations_nameOneRequiredRight_inTheExtensionAndTheDescription() throws IOException {
        List<String> problems = new ArrayList<>();
        Set<String> rights = Arrays.stream(AccessRight.values()).map(AccessRight::wireName)
                .collect(Collectors.toSet());
        forEachOperation((path, method, op) -> {
            if (OPEN_PATHS.contains(path)) {
                return;
            }
            Object right = op.getExtensions() == null ? null : op.getExtensions().get("x-opendps-right");
            if (!(right instanceof String text) || !rights.contains(text)) {
                problems.add(method + " " + path + ": x-opendps-right is " + right);
            } else if (op.getDescription() == null || !op.getDescription().contains("Required right: `" + text + "`")) {
                problems.add(method + " " + path + ": the description does not say 'Required right: `" + text + "`'");
            }
        });
        assertThat(problems).isEmpty();
    }

    @Test
    void openOperations_needNoSecurity() throws IOException {
        OpenAPI api = parse();
        for (String path : OPEN_PATHS) {
            Operation get = api.getPaths().get(path).getGet();
            assertThat(get.getSecurity()).as(path).isEmpty();
            assertThat(get.getParameters()).as(path + " takes no api-version").isNull();
            assertThat(api.getPaths().get(path).getParameters()).as(path).isNull();
        }
        assertThat(api.getSecurity()).hasSize(1);
        assertThat(api.getSecurity().get(0)).containsOnlyKeys("sas");
        assertThat(api.getComponents().getSecuritySchemes().get("sas").getName()).isEqualTo("Authorization");
    }

    @Test
    void securedOperations_documentTheirCommonErrors_withTheAzureErrorBody() throws IOException {
        List<String> problems = new ArrayList<>();
        Set<String> common = Set.of("400", "401", "429", "500", "503");
        forEachOperation((path, method, op) -> {
            if (OPEN_PATHS.contains(path)) {
                return;
            }
            if (!op.getResponses().keySet().containsAll(common)) {
                problems.add(method + " " + path + " lacks some of " + common + ": " + op.getResponses().keySet());
            }
            if (op.getRequestBody() != null && !op.getResponses().keySet().containsAll(Set.of("413", "415"))) {
                problems.add(method + " " + path + " takes a body but lacks 413/415");
            }
            op.getResponses().forEach((status, response) -> {
                if (status.startsWith("4") || status.startsWith("5")) {
                    String error = errorProblem(response);
                    if (error != null) {
                        problems.add(method + " " + path + " " + status + ": " + error);
                    }
                }
            });
        });
        assertThat(problems).isEmpty();
    }

    @Test
    void servedForms_areTheResourceBytes_andTheSameTreeAsJson() throws IOException {
        OpenApiDocument document = OpenApiDocument.instance();

        io.opendps.broker.http.ApiResponse yaml = document.answer(get("openapi.yaml"));
        io.opendps.broker.http.ApiResponse json = document.answer(get("OpenAPI.json"));

        assertThat(yaml.status()).isEqualTo(200);
        assertThat(yaml.headers()).containsEntry("Content-Type", "application/yaml; charset=utf-8");
        assertThat(new String(yaml.body(), StandardCharsets.UTF_8)).isEqualTo(resourceText());
        assertThat(json.headers()).containsEntry("Content-Type", "application/json; charset=utf-8");
        JsonNode fromYaml = new YAMLMapper().readTree(resourceText());
        assertThat(new ObjectMapper().readTree(json.body())).isEqualTo(fromYaml);
    }

    @Test
    void serves_onlyTheTwoDocumentNames() {
        assertThat(OpenApiDocument.serves(List.of("openapi.yaml"))).isTrue();
        assertThat(OpenApiDocument.serves(List.of("OPENAPI.JSON"))).isTrue();
        assertThat(OpenApiDocument.serves(List.of("openapi.yml"))).isFalse();
        assertThat(OpenApiDocument.serves(List.of("docs", "openapi.yaml"))).isFalse();
        assertThat(OpenApiDocument.serves(List.of())).isFalse();
    }

    /** Null when the response is an Azure error (ErrorBody JSON and the x-ms-error-code header), else why not. */
    private static String errorProblem(ApiResponse response) {
        String ref = response.get$ref();
        if (ref == null || !ref.startsWith("#/components/responses/")) {
            return "not a shared error response: " + ref;
        }
        return null;
    }

    /** Resolves the shared error responses and checks each carries ErrorBody and x-ms-error-code. */
    @Test
    void sharedErrorResponses_carryTheErrorBodyAndHeader() throws IOException {
        OpenAPI api = parse();
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, ApiResponse> e : api.getComponents().getResponses().entrySet()) {
            if (e.getKey().endsWith("Page")) {
                continue;
            }
            MediaType json = e.getValue().getContent().get("application/json");
            if (json == null || !"#/components/schemas/ErrorBody".equals(json.getSchema().get$ref())) {
                problems.add(e.getKey() + ": body is not ErrorBody");
            }
            if (e.getValue().getHeaders() == null || !e.getValue().getHeaders().containsKey("x-ms-error-code")) {
                problems.add(e.getKey() + ": no x-ms-error-code header");
            }
        }
        assertThat(problems).isEmpty();
        assertThat(api.getComponents().getResponses().get("TooManyRequests").getHeaders()).containsKey("Retry-After");
    }

    private static ApiRequest get(String name) {
        return new ApiRequest("GET", List.of(name), Map.of(), Map.of(), new byte[0]);
    }

    private interface OperationVisitor {
        void visit(String path, PathItem.HttpMethod method, Operation op);
    }

    private static void forEachOperation(OperationVisitor visitor) throws IOException {
        parse().getPaths().forEach((path, item) -> item.readOperationsMap()
                .forEach((method, op) -> visitor.visit(path, method, op)));
    }

    private static OpenAPI parse() throws IOException {
        SwaggerParseResult result = new OpenAPIV3Parser().readContents(resourceText(), null, new ParseOptions());
        assertThat(result.getMessages()).isEmpty();
        return result.getOpenAPI();
    }

    static String resourceText() throws IOException {
        try (InputStream in = OpenApiDocumentTest.class.getResourceAsStream(OpenApiDocument.RESOURCE)) {
            assertThat(in).as(OpenApiDocument.RESOURCE).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
