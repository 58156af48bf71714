package io.opendps.core.service;

import io.opendps.core.enrollment.Etags;
import io.opendps.core.error.ErrorCode;
import io.opendps.core.error.ProvisioningException;
import io.opendps.core.store.DuplicateKeyException;
import io.opendps.core.store.EditableSettingsStore;
import io.opendps.core.store.PolicyLockoutException;
import io.opendps.core.store.StaleVersionException;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Shared access policies ({@code dps-service-api.md} §2.3–2.4) managed through the administration API, which
 * needs {@code ServiceConfig}. Each method maps to one operation: {@link #list}, {@link #get}, {@link #put},
 * {@link #delete}, {@link #listKeys}, {@link #regenerateKey}. The HTTP layer shapes the JSON
 * ({@link AccessPolicyView}); this class returns stored records.
 *
 * <p>Decisions (Azure manages policies on the ARM plane and publishes no data-plane rules for them):
 * <ul>
 *   <li>Key names follow the Java service SDK's connection-string parser, {@code ^[a-zA-Z0-9_\-@.]+$}, 1–64
 *       characters, so every policy can be used in a connection string. They are case-insensitive (the
 *       authorizer looks {@code skn} up ignoring case) and keep the casing they were created with.</li>
 *   <li>{@code rights} needs at least one right; names are case-insensitive. {@code DeviceConnect} is accepted and
 *       stored (Azure has it) but grants nothing on the service API.</li>
 *   <li>Keys are base64 of 16–64 bytes (the enrollment-key range). Absent or empty keys are generated on create
 *       ({@link Keys#generate()}, 64 bytes) and kept on update. {@code PUT} is otherwise a full replace of the
 *       rights.</li>
 *   <li>{@code If-Match} as for enrollments (§4): absent on an existing policy → 409; {@code *} → create or
 *       replace; the current etag → replace; another etag, or an etag for an absent policy → 412. Delete and
 *       regenerate-key check If-Match only when sent. Every write gets a new etag and {@code updated} time.</li>
 *   <li>At least one policy always holds {@code ServiceConfig}: deleting the last one, or removing the right
 *       from it, is refused with 409 so that an operator cannot lock every administrator out. The store makes
 *       the check atomic with the write.</li>
 *   <li>All validation happens before anything is written; a refused request changes nothing.</li>
 *   <li>Changes take effect on the next request: {@link ServiceAuthorizer} reads policies from the store for every
 *       request (no cache), so a deleted policy or a replaced key is refused at once.</li>
 *   <li>Every change, and every read of keys ({@code listkeys}), goes to the {@code audit} logger with the
 *       policy's name, rights and the name of the policy that authorised the request; never keys.</li>
 * </ul>
 *
 * <p>Thread-safe; synchronous (run it on a worker pool). Failures are {@link ProvisioningException}s with
 * {@code ACCESS_POLICY_*} codes or {@link ErrorCode#INVALID_ARGUMENT}.
 */
public final class AccessPolicyService {

    private static final Logger LOG = LoggerFactory.getLogger(AccessPolicyService.class);
    private static final Logger AUDIT = LoggerFactory.getLogger("io.opendps.audit");
    /** The Java service SDK's key-name rule ({@code ProvisioningConnectionStringBuilder}), at most 64 chars. */
    private static final Pattern KEY_NAME = Pattern.compile("^[a-zA-Z0-9_\\-@.]{1,64}$");
    private static final int MIN_KEY_BYTES = 16;
    private static final int MAX_KEY_BYTES = 64;

    private final EditableSettingsStore store;
    private final AccessPolicyListener listener;
    private final Clock clock;

    public AccessPolicyService(EditableSettingsStore store, AccessPolicyListener listener, Clock clock) {
        this.store = Objects.requireNonNull(store, "store");
        this.listener = Objects.requireNonNull(listener, "listener");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** Every policy, ordered by key name. */
    public List<StoredAccessPolicy> list() {
        return store.storedPolicies();
    }

    /** The policy; 404 when absent. */
    public StoredAccessPolicy get(String keyName) {
        return store.findPolicy(keyName).orElseThrow(() -> notFound(keyName));
    }

    /** The policy for showing its keys; audited as a read of secrets. 404 when absent. */
    public StoredAccessPolicy listKeys(String keyName, String actor) {
        StoredAccessPolicy stored = get(keyName);
        AUDIT.info("access policy keys read [key-name: {}, by: {}]", stored.keyName(), actor);
        return stored;
    }

    /**
     * Creates or replaces a policy.
     *
     * @param keyName the path's key name
     * @param request the body
     * @param ifMatch the If-Match header, or null
     * @param actor the name of the policy that authorised the request (for the audit log)
     */
    public StoredAccessPolicy put(String keyName, AccessPolicyRequest request, @Nullable String ifMatch,
            String actor) {
        Validated v = validate(keyName, request);
        Optional<StoredAccessPolicy> existing = store.findPolicy(keyName);
        checkPrecondition(keyName, existing, ifMatch, true);
        Optional<AccessPolicy> old = existing.map(StoredAccessPolicy::policy);
        AccessPolicy policy = new AccessPolicy(old.map(AccessPolicy::keyName).orElse(keyName),
                keyOrDefault(v.primaryKey(), old.map(AccessPolicy::primaryKey)),
                keyOrDefault(v.secondaryKey(), old.map(AccessPolicy::secondaryKey)), v.rights());
        Instant now = clock.instant();
        StoredAccessPolicy toStore = new StoredAccessPolicy(policy, Etags.newEnrollmentEtag(),
                existing.map(StoredAccessPolicy::created).orElse(now), now);
        try {
            write(existing, toStore);
        } catch (PolicyLockoutException e) {
            throw lockout("remove ServiceConfig from", policy.keyName());
        }
        AUDIT.info("access policy {} [key-name: {}, rights: {}, primary-key: {}, secondary-key: {}, by: {}]",
                existing.isPresent() ? "replaced" : "created", policy.keyName(), policy.rightsText(),
                keyNote(v.primaryKey(), existing), keyNote(v.secondaryKey(), existing), actor);
        notifyWritten(policy);
        return toStore;
    }

    /** Deletes; 404 when absent, 412 on an etag mismatch, 409 for the last policy holding ServiceConfig. */
    public void delete(String keyName, @Nullable String ifMatch, String actor) {
        StoredAccessPolicy existing = get(keyName);
        checkPrecondition(keyName, Optional.of(existing), ifMatch, false);
        try {
            if (!store.deletePolicy(keyName, existing.etag())) {
                throw notFound(keyName);
            }
        } catch (StaleVersionException e) {
            throw changedConcurrently(keyName);
        } catch (PolicyLockoutException e) {
            throw lockout("delete", existing.keyName());
        }
        AUDIT.info("access policy deleted [key-name: {}, rights: {}, by: {}]", existing.keyName(),
                existing.policy().rightsText(), actor);
        try {
            listener.onDeleted(existing.keyName());
        } catch (RuntimeException e) {
            LOG.warn("access policy listener failed after deleting [key-name: {}]", existing.keyName(), e);
        }
    }

    /** Replaces one key with a new random one ({@link Keys#generate()}); the other key keeps working. */
    public StoredAccessPolicy regenerateKey(String keyName, PolicyKey which, @Nullable String ifMatch,
            String actor) {
        StoredAccessPolicy existing = get(keyName);
        checkPrecondition(keyName, Optional.of(existing), ifMatch, false);
        AccessPolicy p = existing.policy();
        String fresh = Keys.generate();
        AccessPolicy policy = which == PolicyKey.PRIMARY
                ? new AccessPolicy(p.keyName(), fresh, p.secondaryKey(), p.rights())
                : new AccessPolicy(p.keyName(), p.primaryKey(), fresh, p.rights());
        StoredAccessPolicy toStore = new StoredAccessPolicy(policy, Etags.newEnrollmentEtag(), existing.created(),
                clock.instant());
        write(Optional.of(existing), toStore);
        AUDIT.info("access policy key regenerated [key-name: {}, key: {}, by: {}]", p.keyName(), which.wireName(),
                actor);
        notifyWritten(policy);
        return toStore;
    }

    /**
     * The policy whose connection string a server hands to local tools ({@code service.json}): the owner policy
     * ({@link AccessPolicy#OWNER}) while it holds {@code ServiceConfig}, otherwise the {@code ServiceConfig}
     * policy with the most rights (then by name). Empty only if no policy holds {@code ServiceConfig}, which the
     * store does not allow once one exists.
     */
    public static Optional<AccessPolicy> administrator(Collection<AccessPolicy> policies) {
        return policies.stream().filter(p -> p.rights().contains(AccessRight.SERVICE_CONFIG))
                .min(Comparator.comparing((AccessPolicy p) -> !p.keyName().equalsIgnoreCase(AccessPolicy.OWNER))
                        .thenComparing(p -> -p.rights().size())
                        .thenComparing(p -> p.keyName().toLowerCase(Locale.ROOT)));
    }

    /** A PUT body that passed validation; keys are null when absent or empty. */
    private record Validated(Set<AccessRight> rights, @Nullable String primaryKey, @Nullable String secondaryKey) {
    }

    /** Checks the path's key name and the whole body before anything is read or written. */
    private static Validated validate(String keyName, AccessPolicyRequest request) {
        requireKeyName(keyName);
        String bodyName = request.keyName();
        if (bodyName != null && !bodyName.isEmpty() && !bodyName.equalsIgnoreCase(keyName)) {
            throw new ProvisioningException(ErrorCode.INVALID_ARGUMENT, "keyName '%s' in the body does not match "
                    + "'%s' in the path", bodyName, keyName);
        }
        return new Validated(parseRights(request.rights()), validKey("primaryKey", request.primaryKey()),
                validKey("secondaryKey", request.secondaryKey()));
    }

    /**
     * Parses {@code rights}: each element is a right name or Azure's comma-separated text; blanks between commas
     * are skipped, duplicates merged. At least one right is required.
     */
    static Set<AccessRight> parseRights(@Nullable List<@Nullable String> rights) {
        if (rights == null) {
            throw new ProvisioningException(ErrorCode.INVALID_ARGUMENT, "rights is required, e.g. "
                    + "\"rights\": \"EnrollmentRead, EnrollmentWrite\"; valid rights: %s", validRights());
        }
        Set<AccessRight> out = EnumSet.noneOf(AccessRight.class);
        for (String element : rights) {
            if (element == null) {
                throw new ProvisioningException(ErrorCode.INVALID_ARGUMENT, "rights contains null; valid rights: %s",
                        validRights());
            }
            for (String name : element.split(",")) {
                if (!name.isBlank()) {
                    out.add(parseRight(name));
                }
            }
        }
        if (out.isEmpty()) {
            throw new ProvisioningException(ErrorCode.INVALID_ARGUMENT, "rights must name at least one right; valid "
                    + "rights: %s", validRights());
        }
        return out;
    }

    private static AccessRight parseRight(String name) {
        try {
            return AccessRight.parse(name);
        } catch (IllegalArgumentException e) {
            throw new ProvisioningException(ErrorCode.INVALID_ARGUMENT, "rights: unknown access right '%s'; valid "
                    + "rights: %s", name.trim(), validRights());
        }
    }

    private static String validRights() {
        return Arrays.stream(AccessRight.values()).map(AccessRight::wireName).collect(Collectors.joining(", "));
    }

    private static void requireKeyName(String keyName) {
        if (!KEY_NAME.matcher(keyName).matches()) {
            throw new ProvisioningException(ErrorCode.INVALID_ARGUMENT, "invalid keyName '%s': use 1-64 characters "
                    + "A-Z a-z 0-9 _ - @ .", keyName);
        }
    }

    /** The key when given (validated), or null when absent or empty. */
    private static @Nullable String validKey(String field, @Nullable String key) {
        if (key == null || key.isEmpty()) {
            return null;
        }
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(key);
        } catch (IllegalArgumentException e) {
            throw new ProvisioningException(ErrorCode.INVALID_ARGUMENT, "%s is not valid base64", field);
        }
        if (bytes.length < MIN_KEY_BYTES || bytes.length > MAX_KEY_BYTES) {
            throw new ProvisioningException(ErrorCode.INVALID_ARGUMENT, "%s must be base64 of %d to %d bytes, got %d "
                    + "bytes", field, MIN_KEY_BYTES, MAX_KEY_BYTES, bytes.length);
        }
        return key;
    }

    private static String keyOrDefault(@Nullable String given, Optional<String> existing) {
        return given != null ? given : existing.orElseGet(Keys::generate);
    }

    private static String keyNote(@Nullable String given, Optional<StoredAccessPolicy> existing) {
        return given != null ? "supplied" : existing.isPresent() ? "kept" : "generated";
    }

    private void write(Optional<StoredAccessPolicy> existing, StoredAccessPolicy toStore) {
        try {
            if (existing.isPresent()) {
                store.replacePolicy(toStore, existing.get().etag());
            } else {
                store.insertPolicy(toStore);
            }
        } catch (DuplicateKeyException | StaleVersionException e) {
            throw changedConcurrently(toStore.keyName());
        }
    }

    private void notifyWritten(AccessPolicy policy) {
        try {
            listener.onWritten(policy);
        } catch (RuntimeException e) {
            LOG.warn("access policy listener failed after a write [key-name: {}]", policy.keyName(), e);
        }
    }

    private static void checkPrecondition(String keyName, Optional<StoredAccessPolicy> existing,
            @Nullable String ifMatch, boolean put) {
        if (ifMatch == null) {
            if (put && existing.isPresent()) {
                throw new ProvisioningException(ErrorCode.ACCESS_POLICY_EXISTS, "access policy '%s' already exists; "
                        + "send If-Match with its etag (or *) to replace it", keyName);
            }
            return;
        }
        if (Etags.isWildcard(ifMatch)) {
            return;
        }
        if (existing.isEmpty()) {
            throw new ProvisioningException(ErrorCode.ACCESS_POLICY_PRECONDITION_FAILED,
                    "access policy '%s' does not exist, so If-Match %s cannot match", keyName, ifMatch);
        }
        String stored = existing.get().etag();
        if (!Etags.matches(ifMatch, stored)) {
            throw new ProvisioningException(ErrorCode.ACCESS_POLICY_PRECONDITION_FAILED,
                    "If-Match %s does not match the current etag %s of access policy '%s'", ifMatch, stored, keyName);
        }
    }

    private static ProvisioningException notFound(String keyName) {
        return new ProvisioningException(ErrorCode.ACCESS_POLICY_NOT_FOUND, "access policy '%s' not found", keyName);
    }

    private static ProvisioningException changedConcurrently(String keyName) {
        return new ProvisioningException(ErrorCode.ACCESS_POLICY_PRECONDITION_FAILED,
                "access policy '%s' was changed concurrently; read it again and retry", keyName);
    }

    private static ProvisioningException lockout(String action, String keyName) {
        return new ProvisioningException(ErrorCode.ACCESS_POLICY_LAST_SERVICE_CONFIG, "refusing to %s access policy "
                + "'%s': it is the last policy holding ServiceConfig, and without one nobody could manage access "
                + "policies or CA certificates; give ServiceConfig to another policy first", action, keyName);
    }
}
