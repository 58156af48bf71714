package io.opendps.core.enrollment;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;

/**
 * The answer of a bulk operation ({@code BulkEnrollmentOperationResult}, {@code dps-service-api.md} §7):
 * {@code isSuccessful} is true only when every item succeeded; {@code errors} lists the failed items and is always
 * present, empty on success (the Java service SDK dereferences it without a null check). It holds no enrollment
 * and so no keys: clients read generated keys with a GET of the attestation mechanism.
 */
@JsonPropertyOrder({"isSuccessful", "errors"})
public record BulkOperationResult(@JsonProperty("isSuccessful") boolean isSuccessful,
        @JsonProperty("errors") List<BulkOperationError> errors) {

    /** Reads {@code errors} absent or {@code null} as empty. */
    public BulkOperationResult {
        errors = errors == null ? List.of() : List.copyOf(errors);
    }

    /** The result of a run with these failures: successful exactly when there are none. */
    public static BulkOperationResult of(List<BulkOperationError> errors) {
        return new BulkOperationResult(errors.isEmpty(), errors);
    }
}
