package io.opendps.broker.http;

import io.opendps.core.error.ErrorBody;
import io.opendps.core.error.ErrorCode;
import io.opendps.core.json.Json;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/** An HTTP response: status, headers and a JSON (or empty) body. */
public record ApiResponse(int status, Map<String, String> headers, byte[] body) {

    /** The content type of every JSON response (the Node SDK needs {@code application/json}). */
    public static final String JSON = "application/json; charset=utf-8";

    public ApiResponse {
        headers = Map.copyOf(headers);
    }

    /** A JSON response. */
    public static ApiResponse json(int status, Object body, Map<String, String> headers) {
        Map<String, String> h = new LinkedHashMap<>(headers);
        h.put("Content-Type", JSON);
        return new ApiResponse(status, h, Json.toBytes(body));
    }

    /** 204 No Content. */
    public static ApiResponse noContent() {
        return new ApiResponse(204, Map.of(), new byte[0]);
    }

    /** An Azure error body with the {@code x-ms-error-code} header. */
    public static ApiResponse error(ErrorCode code, String message, Instant now) {
        ErrorBody body = ErrorBody.of(code, message, UUID.randomUUID().toString(), now);
        return json(code.httpStatus(), body, Map.of("x-ms-error-code", code.headerName()));
    }
}
