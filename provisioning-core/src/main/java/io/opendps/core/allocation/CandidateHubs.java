package io.opendps.core.allocation;

import io.opendps.core.error.ErrorCode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The candidate-set rules of allocation ({@code dps-service-api.md} §9.1), as pure functions over the linked hubs
 * in effect at registration time (whoever keeps the list, config or store, passes it in):
 *
 * <ul>
 *   <li>Hashing policies ({@code hashed}, {@code geoLatency}): the enrollment's {@code iotHubs} if non-empty, else
 *       every linked hub (newly linked hubs join, unlinked ones drop out); hubs with {@code applyAllocationPolicy=false}
 *       are dropped. A listed hub that is no longer linked fails the registration ({@link ErrorCode#HUB_NOT_LINKED},
 *       the reference's [rec]: a stale list is an operator error to surface, not to paper over); no hub left fails it
 *       with {@link ErrorCode#HUB_NOT_SPECIFIED}.</li>
 *   <li>{@code static}: exactly one hub, {@code iotHubs[0]} or else the legacy {@code iotHubHostName}; it must be
 *       linked, and {@code applyAllocationPolicy} does not matter (the flag only keeps a hub out of hashing). Any other
 *       number of hubs fails with {@link ErrorCode#HUB_NOT_SPECIFIED}.</li>
 * </ul>
 *
 * <p>Host names compare case-insensitively. Stateless and thread-safe.
 */
public final class CandidateHubs {

    private CandidateHubs() {
    }

    /** The outcome: the hubs allocation may choose from, or why the registration fails. */
    public sealed interface Result {
    }

    /** Non-empty candidates. */
    public record Hubs(List<LinkedHub> hubs) implements Result {
        public Hubs {
            hubs = List.copyOf(hubs);
        }
    }

    /** No candidate: the registration fails with this. */
    public record Failed(Allocation.Failed failure) implements Result {
    }

    /** Candidates of a hashing policy ({@code hashed}, {@code geoLatency}). */
    public static Result forHashing(@Nullable List<String> iotHubs, List<LinkedHub> linked) {
        List<LinkedHub> listed;
        if (iotHubs == null || iotHubs.isEmpty()) {
            listed = linked;
        } else {
            listed = new ArrayList<>();
            for (String name : iotHubs) {
                Optional<LinkedHub> hub = find(name, linked);
                if (hub.isEmpty()) {
                    return notLinked("iotHubs", name, linked);
                }
                listed.add(hub.get());
            }
        }
        if (listed.isEmpty()) {
            return new Failed(new Allocation.Failed(ErrorCode.HUB_NOT_SPECIFIED, "no candidate hub: there are no "
                    + "linked hubs (link one with './opendps hub add' or PUT /linkedHubs/{hostName})"));
        }
        List<LinkedHub> candidates = listed.stream().filter(LinkedHub::applyAllocationPolicy).distinct().toList();
        if (candidates.isEmpty()) {
            return new Failed(new Allocation.Failed(ErrorCode.HUB_NOT_SPECIFIED, "no candidate hub: "
                    + (iotHubs == null || iotHubs.isEmpty() ? "no linked hub" : "none of the enrollment's iotHubs")
                    + " takes part in allocation (applyAllocationPolicy is false)"));
        }
        return new Hubs(candidates);
    }

    /** The one hub of {@code static} allocation. */
    public static Result forStatic(@Nullable String iotHubHostName, @Nullable List<String> iotHubs,
            List<LinkedHub> linked) {
        String name;
        String field;
        if (iotHubs != null && !iotHubs.isEmpty()) {
            if (iotHubs.size() != 1) {
                return new Failed(new Allocation.Failed(ErrorCode.HUB_NOT_SPECIFIED, "static allocation needs exactly "
                        + "one hub, the enrollment lists " + iotHubs.size() + " in iotHubs"));
            }
            name = iotHubs.get(0);
            field = "iotHubs";
        } else if (iotHubHostName != null) {
            name = iotHubHostName;
            field = "iotHubHostName";
        } else {
            return new Failed(new Allocation.Failed(ErrorCode.HUB_NOT_SPECIFIED, "static allocation needs exactly "
                    + "one hub, the enrollment names none (set iotHubs to one linked hub)"));
        }
        return find(name, linked).<Result>map(h -> new Hubs(List.of(h)))
                .orElseGet(() -> notLinked(field, name, linked));
    }

    private static Optional<LinkedHub> find(String name, List<LinkedHub> linked) {
        String wanted = name.toLowerCase(Locale.ROOT);
        return linked.stream().filter(h -> h.hostName().equals(wanted)).findFirst();
    }

    private static Result notLinked(String field, String name, List<LinkedHub> linked) {
        return new Failed(new Allocation.Failed(ErrorCode.HUB_NOT_LINKED, "the enrollment's " + field + " names hub '"
                + name + "', which is no longer a linked hub; linked hubs: "
                + String.join(", ", linked.stream().map(LinkedHub::hostName).toList())));
    }
}
