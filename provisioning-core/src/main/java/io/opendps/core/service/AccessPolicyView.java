package io.opendps.core.service;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * A shared access policy as the administration API shows it ({@code dps-service-api.md} §2.3 shape plus etag and
 * timestamps): {@code GET} answers it without keys (the key fields are then absent), {@code PUT}, {@code listkeys}
 * and {@code regenerateKey} with them. Timestamps are ISO-8601 UTC with {@code Z}.
 *
 * @param keyName the policy's name, as first written
 * @param primaryKey base64 key, or null when keys are not shown
 * @param secondaryKey base64 key, or null when keys are not shown
 * @param rights Azure's comma-separated text, e.g. {@code "ServiceConfig, EnrollmentRead"}
 * @param etag changes on every write
 * @param created when the policy was created
 * @param updated last write
 */
@JsonPropertyOrder({"keyName", "primaryKey", "secondaryKey", "rights", "etag", "created", "updated"})
public record AccessPolicyView(String keyName, @Nullable String primaryKey, @Nullable String secondaryKey,
        String rights, String etag, Instant created, Instant updated) {

    /** The view of a stored policy, with or without its keys. */
    public static AccessPolicyView of(StoredAccessPolicy stored, boolean withKeys) {
        AccessPolicy p = stored.policy();
        return new AccessPolicyView(p.keyName(), withKeys ? p.primaryKey() : null,
                withKeys ? p.secondaryKey() : null, p.rightsText(), stored.etag(), stored.created(),
                stored.updated());
    }

    @Override
    public String toString() {
        return "AccessPolicyView[keyName=" + keyName + ", rights=" + rights + ", etag=" + etag + "]";
    }
}
