package io.opendps.core.x509;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * {@code {"primary": name, "secondary": name}}: names of CA certificates registered on the service (group
 * enrollments only). {@code primary} is required on writes.
 */
@JsonPropertyOrder({"primary", "secondary"})
public record X509CaReferences(@Nullable String primary, @Nullable String secondary) {

    /** The present names, primary first. */
    public List<String> present() {
        List<String> out = new ArrayList<>(2);
        if (primary != null && !primary.isBlank()) {
            out.add(primary);
        }
        if (secondary != null && !secondary.isBlank()) {
            out.add(secondary);
        }
        return out;
    }
}
