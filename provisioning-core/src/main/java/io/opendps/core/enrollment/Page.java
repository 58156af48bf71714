package io.opendps.core.enrollment;

import io.opendps.core.error.ErrorCode;
import io.opendps.core.error.ProvisioningException;
import io.opendps.core.store.Ids;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * One page of a listing; {@code continuation} is null on the last page. The static helpers implement the paging
 * every query uses: a page size (default 100, at most {@link #MAX_PAGE}) and an opaque continuation token (the
 * last returned id key, base64url), so pages stay stable across writes.
 */
public record Page<T>(List<T> items, @Nullable String continuation) {

    /** The largest page a query returns, whatever {@code x-ms-max-item-count} asks for. */
    public static final int MAX_PAGE = 1000;
    private static final int DEFAULT_PAGE = 100;

    public Page {
        items = List.copyOf(items);
    }

    /** The same page with each item mapped. */
    public <R> Page<R> map(java.util.function.Function<? super T, ? extends R> mapper) {
        return new Page<>(items.stream().<R>map(mapper).toList(), continuation);
    }

    /** The page size to use for a requested one (0 or less: the default). */
    public static int pageSize(int requested) {
        return requested <= 0 ? DEFAULT_PAGE : Math.min(requested, MAX_PAGE);
    }

    /**
     * The id key a continuation token names, or null for the first page.
     *
     * @throws ProvisioningException 400 when the token was not issued by this server
     */
    public static @Nullable String afterKey(@Nullable String continuation) {
        if (continuation == null || continuation.isEmpty()) {
            return null;
        }
        try {
            return new String(Base64.getUrlDecoder().decode(continuation), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new ProvisioningException(ErrorCode.INVALID_ARGUMENT,
                    "x-ms-continuation '%s' is not a token this server issued", continuation);
        }
    }

    /**
     * A page from a store read of {@code size + 1} items: the first {@code size} (mapped for output), and a
     * continuation token only if there was one more.
     */
    public static <S, T> Page<T> of(List<S> readOneMore, int size, Function<S, String> id, Function<S, T> view) {
        List<S> page = readOneMore.subList(0, Math.min(size, readOneMore.size()));
        String continuation = readOneMore.size() > size ? token(id.apply(page.get(page.size() - 1))) : null;
        return new Page<>(page.stream().map(view).toList(), continuation);
    }

    private static String token(String id) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(Ids.key(id).getBytes(StandardCharsets.UTF_8));
    }
}
