package io.opendps.core.allocation;

import io.opendps.core.enrollment.AllocationPolicy;
import io.opendps.core.error.ErrorCode;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Chooses a linked hub for a device: the enrollment's static {@code iotHubHostName} when set, otherwise
 * weighted rendezvous hashing over the hubs that take part in allocation. Rendezvous hashing is
 * deterministic for a registration id (re-registration lands on the same hub), proportional to the weights,
 * and moves only about 1/n of the devices when a hub is added. The full policy set (geo-latency, custom)
 * comes later.
 *
 * <p>The linked hubs and the service's default allocation policy come from a {@link Source} read on every call, so
 * a hub added, changed or removed through the service API counts for the next registration (the server's source is
 * {@code LinkedHubService}, an in-memory snapshot replaced on every write: no store round trip per call).
 *
 * <p>Thread-safe.
 */
public final class Allocator {

    /** The linked hubs and the default policy in effect now. Implementations must be cheap and thread-safe. */
    public interface Source {

        /** The linked hubs now (may be empty: every allocation then fails). */
        List<LinkedHub> hubs();

        /** The service-wide default allocation policy (never {@code custom}). */
        AllocationPolicy defaultPolicy();
    }

    private final Source source;

    /** A fixed set of hubs (at least one) with the default policy {@code hashed}. */
    public Allocator(List<LinkedHub> hubs) {
        if (hubs.isEmpty()) {
            throw new IllegalArgumentException("at least one linked hub is required");
        }
        List<LinkedHub> fixed = List.copyOf(hubs);
        this.source = new Source() {
            @Override
            public List<LinkedHub> hubs() {
                return fixed;
            }

            @Override
            public AllocationPolicy defaultPolicy() {
                return AllocationPolicy.HASHED;
            }
        };
    }

    /** Hubs and default policy read from {@code source} at every call. */
    public Allocator(Source source) {
        this.source = Objects.requireNonNull(source, "source");
    }

    /** The linked hubs now. */
    public List<LinkedHub> hubs() {
        return source.hubs();
    }

    /** The service-wide default allocation policy now: what enrollments without a policy use. */
    public AllocationPolicy defaultPolicy() {
        return source.defaultPolicy();
    }

    /** The linked hub with this host name (case-insensitive). */
    public Optional<LinkedHub> find(String hostName) {
        String wanted = hostName.toLowerCase(Locale.ROOT);
        return source.hubs().stream().filter(h -> h.hostName().equals(wanted)).findFirst();
    }

    /**
     * Allocates a hub.
     *
     * @param registrationId the device's registration id (case-insensitive for hashing)
     * @param staticHub the enrollment's {@code iotHubHostName}, or null
     */
    public Allocation allocate(String registrationId, @Nullable String staticHub) {
        if (staticHub != null) {
            return find(staticHub).<Allocation>map(h -> new Allocation.Assigned(h.hostName()))
                    .orElseGet(() -> new Allocation.Failed(ErrorCode.HUB_NOT_SPECIFIED,
                            "the enrollment's iotHubHostName '" + staticHub + "' is not a linked hub"));
        }
        LinkedHub best = null;
        double bestScore = Double.NEGATIVE_INFINITY;
        List<LinkedHub> hubs = source.hubs();
        for (LinkedHub hub : hubs) {
            if (!hub.applyAllocationPolicy()) {
                continue;
            }
            double score = score(registrationId, hub);
            if (score > bestScore) {
                bestScore = score;
                best = hub;
            }
        }
        return best == null
                ? new Allocation.Failed(ErrorCode.HUB_NOT_SPECIFIED, hubs.isEmpty() ? "the service has no linked hubs"
                        : "no linked hub takes part in allocation")
                : new Allocation.Assigned(best.hostName());
    }

    /**
     * Weighted rendezvous hashing over {@code candidates} (non-empty): the hub with the highest score for this
     * registration id. Deterministic, proportional to the weights, minimal movement when the set changes.
     */
    public static LinkedHub hashed(String registrationId, List<LinkedHub> candidates) {
        LinkedHub best = null;
        double bestScore = Double.NEGATIVE_INFINITY;
        for (LinkedHub hub : candidates) {
            double score = score(registrationId, hub);
            if (score > bestScore) {
                bestScore = score;
                best = hub;
            }
        }
        if (best == null) {
            throw new IllegalArgumentException("no candidate hubs");
        }
        return best;
    }

    /** Weighted rendezvous score: {@code -weight / ln(u)}, u uniform in (0,1) from SHA-256(id, hub). */
    static double score(String registrationId, LinkedHub hub) {
        byte[] digest = sha256(registrationId.toLowerCase(Locale.ROOT) + "\n" + hub.hostName());
        long bits = ByteBuffer.wrap(digest).getLong() >>> 11;
        double u = (bits + 0.5) / (double) (1L << 53);
        return -hub.allocationWeight() / Math.log(u);
    }

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
