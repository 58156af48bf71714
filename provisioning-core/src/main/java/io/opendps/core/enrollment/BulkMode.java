package io.opendps.core.enrollment;

import io.opendps.core.error.ErrorCode;
import io.opendps.core.error.ProvisioningException;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * The {@code mode} of a bulk enrollment operation ({@code dps-service-api.md} §7), with the If-Match each item is
 * written with, so every item behaves exactly like the single call:
 *
 * <ul>
 *   <li>{@link #CREATE}: PUT without If-Match: an item whose id exists fails with 409;</li>
 *   <li>{@link #UPDATE}: PUT with {@code If-Match: *}: replaces, or creates when absent (upsert);</li>
 *   <li>{@link #UPDATE_IF_MATCH_ETAG}: PUT with the item's {@code etag} as If-Match: 412 when it is stale; an
 *       item without an etag fails with 400;</li>
 *   <li>{@link #DELETE}: DELETE with the item's {@code etag} as If-Match when it has one, else unconditionally;
 *       an absent item fails with 404.</li>
 * </ul>
 *
 * <p>Wire names are Azure's ({@code create}, {@code update}, {@code updateIfMatchETag}, {@code delete}); they are
 * matched case-insensitively, as the service matches paths and ids.
 */
public enum BulkMode {
    CREATE("create"),
    UPDATE("update"),
    UPDATE_IF_MATCH_ETAG("updateIfMatchETag"),
    DELETE("delete");

    /** The valid wire names, for messages: {@code create, update, updateIfMatchETag, delete}. */
    public static final String VALID = Arrays.stream(values()).map(BulkMode::wireName)
            .collect(Collectors.joining(", "));

    private final String wireName;

    BulkMode(String wireName) {
        this.wireName = wireName;
    }

    /** The mode as Azure writes it. */
    public String wireName() {
        return wireName;
    }

    /**
     * The mode a wire name denotes.
     *
     * @throws ProvisioningException 400 {@link ErrorCode#INVALID_ARGUMENT} when missing or unknown; the message
     *     lists the valid modes
     */
    public static BulkMode parse(@Nullable String mode) {
        if (mode == null || mode.isBlank()) {
            throw new ProvisioningException(ErrorCode.INVALID_ARGUMENT,
                    "mode is required; use one of %s", VALID);
        }
        for (BulkMode m : values()) {
            if (m.wireName.toLowerCase(Locale.ROOT).equals(mode.trim().toLowerCase(Locale.ROOT))) {
                return m;
            }
        }
        throw new ProvisioningException(ErrorCode.INVALID_ARGUMENT, "unknown mode '%s'; use one of %s", mode, VALID);
    }
}
