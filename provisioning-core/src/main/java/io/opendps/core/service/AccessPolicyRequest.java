package io.opendps.core.service;

import com.fasterxml.jackson.annotation.JsonFormat;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The body of {@code PUT /authorizationPolicies/{keyName}}: ARM's {@code
 * SharedAccessSignatureAuthorizationRuleAccessRightsDescription} ({@code dps-service-api.md} §2.3) without its
 * read-only parts. Unknown fields (e.g. an {@code etag} or timestamps echoed from a GET) are ignored.
 *
 * @param keyName optional; when present it must equal the path's key name, ignoring case
 * @param rights Azure's comma-separated text ({@code "ServiceConfig, EnrollmentRead"}) or a JSON array of names
 *     (each element may itself be comma-separated); names are case-insensitive
 * @param primaryKey optional base64 key of 16–64 bytes; generated on create and kept on update when absent or empty
 * @param secondaryKey as {@code primaryKey}
 */
public record AccessPolicyRequest(@Nullable String keyName,
        @JsonFormat(with = JsonFormat.Feature.ACCEPT_SINGLE_VALUE_AS_ARRAY) @Nullable List<@Nullable String> rights,
        @Nullable String primaryKey, @Nullable String secondaryKey) {

    public AccessPolicyRequest {
        rights = rights == null ? null : java.util.Collections.unmodifiableList(new ArrayList<>(rights));
    }

    /** A request with rights given as Azure's comma-separated text. */
    public static AccessPolicyRequest of(String rights, @Nullable String primaryKey, @Nullable String secondaryKey) {
        return new AccessPolicyRequest(null, List.of(rights), primaryKey, secondaryKey);
    }

    @Override
    public String toString() {
        return "AccessPolicyRequest[keyName=" + keyName + ", rights=" + rights + ", primaryKey="
                + (primaryKey == null ? "absent" : "given") + ", secondaryKey="
                + (secondaryKey == null ? "absent" : "given") + "]";
    }
}
