package io.opendps.core.enrollment;

import java.util.List;
import org.jspecify.annotations.Nullable;

/** One page of a listing; {@code continuation} is null on the last page. */
public record Page<T>(List<T> items, @Nullable String continuation) {

    public Page {
        items = List.copyOf(items);
    }
}
