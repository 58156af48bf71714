package io.opendps.core.enrollment;

import io.opendps.core.error.ErrorCode;
import io.opendps.core.error.ProvisioningException;
import io.opendps.core.store.Ids;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bulk operations on individual enrollments ({@code POST /enrollments}) and enrollment groups
 * ({@code POST /enrollmentGroups}), {@code dps-service-api.md} §7, built on {@link EnrollmentService} so that each
 * item gets exactly the validation, If-Match semantics, key generation and audit line of the single call
 * ({@link BulkMode} says which If-Match each mode uses).
 *
 * <p>Decisions where the reference is silent or only recommends:
 * <ul>
 *   <li><b>Not atomic.</b> After the whole request passed its checks, items are applied one by one in request
 *       order; a failing item is reported in {@link BulkOperationResult#errors()} with the error code and message
 *       its single call would have produced, and leaves its stored enrollment untouched, while the other items
 *       still apply. (Azure's behaviour is unpublished; a rollback would need a transaction across key generation
 *       and the CA checks, and clients already handle per-item errors.)</li>
 *   <li><b>Whole-request checks first</b>, so a rejected request writes nothing (400): {@code mode} missing or
 *       unknown (the message lists the valid modes), the list missing or empty, more than {@link #MAX_ITEMS} items
 *       (Azure's documented limit; {@link ErrorCode#BULK_TOO_MANY_ITEMS}), an item without an id, and the same id
 *       twice (ids are case-insensitive). A duplicate rejects the whole request rather than failing the second
 *       item: with two versions of one enrollment in one request the outcome would depend on the order, which is
 *       almost certainly a mistake in the caller's file.</li>
 *   <li><b>Bulk import.</b> Mode {@code create} of individual enrollments checks every item first and inserts
 *       the valid ones in one store transaction ({@link EnrollmentService#createEnrollments}): one round trip per
 *       request instead of two per item, with the same per-item outcomes (an existing id fails with 409201, the
 *       others are created). If that transaction fails, no item of the request is stored and each is reported
 *       as a 500-class error.</li>
 *   <li>An unexpected failure of one item (a bug) is logged and reported for that item as a 500-class error, so
 *       the caller still learns which items were applied.</li>
 * </ul>
 *
 * <p>The result never holds keys. One audit line summarises each applied request; each item's write is audited
 * by {@link EnrollmentService} as usual. Thread-safe and synchronous (runs store work on the caller's thread).
 */
public final class BulkEnrollmentService {

    /** The most items one bulk request may hold (Azure DPS's documented limit). */
    public static final int MAX_ITEMS = 10;

    private static final Logger LOG = LoggerFactory.getLogger(BulkEnrollmentService.class);
    private static final Logger AUDIT = LoggerFactory.getLogger("io.opendps.audit");

    private static final Kind<IndividualEnrollment> ENROLLMENTS = new Kind<>("enrollments", "registrationId",
            IndividualEnrollment::registrationId, IndividualEnrollment::etag, BulkOperationError::forEnrollment);
    private static final Kind<EnrollmentGroup> GROUPS = new Kind<>("enrollmentGroups", "enrollmentGroupId",
            EnrollmentGroup::enrollmentGroupId, EnrollmentGroup::etag, BulkOperationError::forGroup);

    private final EnrollmentService enrollments;

    public BulkEnrollmentService(EnrollmentService enrollments) {
        this.enrollments = Objects.requireNonNull(enrollments, "enrollments");
    }

    /**
     * Applies a bulk operation on individual enrollments.
     *
     * @throws ProvisioningException 400 when the request as a whole is invalid (nothing is written then)
     */
    public BulkOperationResult enrollments(BulkEnrollmentOperation operation) {
        if (BulkMode.parse(operation.mode()) == BulkMode.CREATE) {
            return createEnrollments(checkItems(ENROLLMENTS, operation.enrollments()));
        }
        return run(ENROLLMENTS, operation.mode(), operation.enrollments(), enrollments::putEnrollment,
                enrollments::deleteEnrollment);
    }

    /**
     * Applies a bulk operation on enrollment groups.
     *
     * @throws ProvisioningException 400 when the request as a whole is invalid (nothing is written then)
     */
    public BulkOperationResult groups(BulkEnrollmentGroupOperation operation) {
        return run(GROUPS, operation.mode(), operation.enrollmentGroups(), enrollments::putGroup,
                enrollments::deleteGroup);
    }

    /**
     * Checks the ids of a bulk list: each present and none twice (case-insensitive). Public so that clients
     * splitting a larger list into several requests can check the whole list before sending any part.
     *
     * @param listName the JSON name of the list, for messages ({@code enrollments})
     * @param idField the JSON name of the id ({@code registrationId})
     * @throws ProvisioningException 400 naming the first item without an id or the first repeated id
     */
    public static void checkIds(String listName, String idField, List<@Nullable String> ids) {
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < ids.size(); i++) {
            String id = ids.get(i);
            if (id == null || id.isBlank()) {
                throw new ProvisioningException(ErrorCode.INVALID_ARGUMENT, "%s[%d] has no %s; every item needs one",
                        listName, i, idField);
            }
            Integer first = seen.putIfAbsent(Ids.key(id), i);
            if (first != null) {
                throw new ProvisioningException(ErrorCode.INVALID_ARGUMENT, "%s '%s' appears twice (%s[%d] and "
                        + "%s[%d]); a bulk operation may name each id once (ids are case-insensitive)", idField, id,
                        listName, first, listName, i);
            }
        }
    }

    private <T> BulkOperationResult run(Kind<T> kind, @Nullable String modeText, @Nullable List<T> items,
            Put<T> put, Delete delete) {
        BulkMode mode = BulkMode.parse(modeText);
        List<T> checked = checkItems(kind, items);
        List<BulkOperationError> errors = new ArrayList<>();
        for (T item : checked) {
            String id = Objects.requireNonNull(kind.id().apply(item));
            BulkOperationError error = apply(kind, mode, id, item, put, delete);
            if (error != null) {
                errors.add(error);
            }
        }
        AUDIT.info("bulk {} applied [mode: {}, items: {}, failed: {}, failed-ids: {}]", kind.listName(),
                mode.wireName(), checked.size(), errors.size(), errors.stream().map(BulkOperationError::id).toList());
        return BulkOperationResult.of(errors);
    }

    /** Mode create of individual enrollments: one store transaction for the whole request (bulk import). */
    private BulkOperationResult createEnrollments(List<IndividualEnrollment> items) {
        List<BulkOperationError> errors = new ArrayList<>();
        try {
            enrollments.createEnrollments(items).forEach((id, e) -> errors.add(BulkOperationError.forEnrollment(id,
                    e.code(), Objects.requireNonNullElse(e.getMessage(), e.code().name()))));
        } catch (RuntimeException e) {
            LOG.warn("bulk create failed unexpectedly [items: {}]", items.size(), e);
            errors.clear();
            items.forEach(item -> errors.add(BulkOperationError.forEnrollment(Objects.requireNonNull(
                    item.registrationId()), ErrorCode.INTERNAL_ERROR, "internal error while applying this item")));
        }
        AUDIT.info("bulk {} applied [mode: {}, items: {}, failed: {}, failed-ids: {}]", ENROLLMENTS.listName(),
                BulkMode.CREATE.wireName(), items.size(), errors.size(),
                errors.stream().map(BulkOperationError::id).toList());
        return BulkOperationResult.of(errors);
    }

    private static <T> List<T> checkItems(Kind<T> kind, @Nullable List<T> items) {
        if (items == null || items.isEmpty()) {
            throw new ProvisioningException(ErrorCode.INVALID_ARGUMENT, "%s is required: a list of 1 to %d items",
                    kind.listName(), MAX_ITEMS);
        }
        if (items.size() > MAX_ITEMS) {
            throw new ProvisioningException(ErrorCode.BULK_TOO_MANY_ITEMS, "%s holds %d items, but a bulk operation "
                    + "takes at most %d (the Azure DPS limit); split it into several requests", kind.listName(),
                    items.size(), MAX_ITEMS);
        }
        List<@Nullable String> ids = new ArrayList<>();
        items.forEach(item -> ids.add(kind.id().apply(item)));
        checkIds(kind.listName(), kind.idField(), ids);
        return items;
    }

    private static <T> @Nullable BulkOperationError apply(Kind<T> kind, BulkMode mode, String id, T item,
            Put<T> put, Delete delete) {
        @Nullable String etag = kind.etag().apply(item);
        try {
            switch (mode) {
                case CREATE -> put.put(id, item, null);
                case UPDATE -> put.put(id, item, "*");
                case UPDATE_IF_MATCH_ETAG -> put.put(id, item, requireEtag(kind, id, etag));
                case DELETE -> delete.delete(id, etag == null || etag.isBlank() ? null : etag);
                default -> throw new IllegalStateException("unexpected mode " + mode);
            }
            return null;
        } catch (ProvisioningException e) {
            return kind.error().create(id, e.code(), Objects.requireNonNullElse(e.getMessage(), e.code().name()));
        } catch (RuntimeException e) {
            LOG.warn("bulk item failed unexpectedly [{}: {}, mode: {}]", kind.idField(), id, mode.wireName(), e);
            return kind.error().create(id, ErrorCode.INTERNAL_ERROR, "internal error while applying this item");
        }
    }

    private static String requireEtag(Kind<?> kind, String id, @Nullable String etag) {
        if (etag == null || etag.isBlank()) {
            throw new ProvisioningException(ErrorCode.INVALID_ARGUMENT, "%s '%s' has no etag; mode "
                    + "updateIfMatchETag replaces an item only if its etag matches (use mode update to replace "
                    + "regardless)", kind.idField(), id);
        }
        return etag;
    }

    /** A copy of a request list; a JSON {@code null} item is refused, naming its index. */
    static <T> List<T> copyWithoutNulls(String listName, List<T> items) {
        for (int i = 0; i < items.size(); i++) {
            if (items.get(i) == null) {
                throw new IllegalArgumentException(listName + "[" + i + "] is null; send an object");
            }
        }
        return List.copyOf(items);
    }

    /** What differs between the enrollment and the group variant. */
    private record Kind<T>(String listName, String idField, Function<T, @Nullable String> id,
            Function<T, @Nullable String> etag, ErrorFactory error) {
    }

    @FunctionalInterface
    private interface ErrorFactory {
        BulkOperationError create(String id, ErrorCode code, String message);
    }

    @FunctionalInterface
    private interface Put<T> {
        Object put(String id, T body, @Nullable String ifMatch);
    }

    @FunctionalInterface
    private interface Delete {
        void delete(String id, @Nullable String ifMatch);
    }
}
