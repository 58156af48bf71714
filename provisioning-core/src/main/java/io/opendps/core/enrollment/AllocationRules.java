package io.opendps.core.enrollment;

import static io.opendps.core.enrollment.EnrollmentRules.bad;

import io.opendps.core.allocation.Allocator;
import io.opendps.core.allocation.LinkedHub;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The allocation rules of enrollment writes ({@code dps-service-api.md} §3.1, §9): hub names, the policy and the
 * custom allocation webhook. Every failure is a 400 naming the field.
 *
 * <ul>
 *   <li>{@code iotHubHostName} and every {@code iotHubs} entry must be a linked hub (case-insensitive).</li>
 *   <li>{@code static} needs exactly one hub: a single {@code iotHubs} entry, or no {@code iotHubs} and the legacy
 *       {@code iotHubHostName}; when both are given they must name the same hub.</li>
 *   <li>{@code custom} needs {@code customAllocationDefinition} with both {@code webhookUrl} and
 *       {@code apiVersion} (see {@link CustomAllocationDefinition} for their rules).</li>
 *   <li>A {@code customAllocationDefinition} sent with another policy (or none) is <em>validated, stored and
 *       returned but inert</em>, rather than refused: the Java SDK and the CLI update an enrollment by sending back
 *       what GET returned with the policy changed, and refusing the stale definition would break that round trip.
 *       It takes effect again if the policy is switched back to {@code custom}.</li>
 * </ul>
 */
final class AllocationRules {

    /** The oldest enrollment schema a webhook can ask for. */
    static final String MIN_WEBHOOK_API_VERSION = "2018-09-01-preview";
    private static final Pattern API_VERSION = Pattern.compile("^(\\d{4}-\\d{2}-\\d{2})(-preview)?$");
    private static final String DEFINITION = "customAllocationDefinition";

    private final Allocator allocator;

    AllocationRules(Allocator allocator) {
        this.allocator = allocator;
    }

    void check(@Nullable String iotHubHostName, @Nullable List<String> iotHubs, @Nullable AllocationPolicy policy,
            @Nullable CustomAllocationDefinition custom) {
        if (iotHubHostName != null) {
            linked("iotHubHostName", iotHubHostName);
        }
        if (iotHubs != null) {
            for (int i = 0; i < iotHubs.size(); i++) {
                String hub = iotHubs.get(i);
                if (hub == null || hub.isBlank()) {
                    throw bad("iotHubs[%d] is empty; list linked hub host names, e.g. [\"%s\"]", i, firstHub());
                }
                linked("iotHubs[" + i + "]", hub);
            }
        }
        if (policy == AllocationPolicy.STATIC) {
            staticHub(iotHubHostName, iotHubs);
        }
        if (policy == AllocationPolicy.CUSTOM && custom == null) {
            throw bad("%s is required when allocationPolicy is custom, e.g. {\"webhookUrl\":\"https://alloc.example"
                    + ".com/api/allocate\",\"apiVersion\":\"2021-10-01\"}", DEFINITION);
        }
        if (custom != null) {
            webhookUrl(custom.webhookUrl());
            apiVersion(custom.apiVersion());
        }
    }

    private void linked(String field, String hub) {
        if (allocator.find(hub).isEmpty()) {
            throw bad("%s '%s' is not a linked hub; linked hubs: %s", field, hub, linkedHubs());
        }
    }

    private static void staticHub(@Nullable String iotHubHostName, @Nullable List<String> iotHubs) {
        if (iotHubs != null && !iotHubs.isEmpty()) {
            if (iotHubs.size() != 1) {
                throw bad("allocationPolicy static needs exactly one hub in iotHubs; it has %d", iotHubs.size());
            }
            if (iotHubHostName != null && !iotHubHostName.equalsIgnoreCase(iotHubs.get(0))) {
                throw bad("allocationPolicy static: iotHubHostName '%s' and iotHubs[0] '%s' name different hubs; "
                        + "send one of them", iotHubHostName, iotHubs.get(0));
            }
            return;
        }
        if (iotHubHostName == null) {
            throw bad("allocationPolicy static needs exactly one hub in iotHubs (or the legacy iotHubHostName); "
                    + "none is given");
        }
    }

    private static void webhookUrl(@Nullable String url) {
        String field = DEFINITION + ".webhookUrl";
        if (url == null || url.isBlank()) {
            throw bad("%s is required: the absolute https URL custom allocation calls", field);
        }
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw bad("%s is not a valid URL: %s", field, e.getReason());
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("https") && !scheme.equals("http")) {
            throw bad("%s must be an absolute https:// (or http://) URL; %s", field, scheme.isEmpty()
                    ? "it has no scheme" : "its scheme is '" + uri.getScheme() + "'");
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
            throw bad("%s has no host name", field);
        }
    }

    private static void apiVersion(@Nullable String version) {
        String field = DEFINITION + ".apiVersion";
        if (version == null || version.isBlank()) {
            throw bad("%s is required: the enrollment schema version the webhook receives, e.g. 2021-10-01 "
                    + "(at least %s)", field, MIN_WEBHOOK_API_VERSION);
        }
        Matcher m = API_VERSION.matcher(version);
        if (!m.matches() || !realDate(m.group(1))) {
            throw bad("%s '%s' is not a version like 2021-10-01 or 2019-01-15-preview", field, version);
        }
        if (compareVersions(version, MIN_WEBHOOK_API_VERSION) < 0) {
            throw bad("%s '%s' is older than %s, the oldest version custom allocation supports", field, version,
                    MIN_WEBHOOK_API_VERSION);
        }
    }

    /** Orders {@code yyyy-MM-dd[-preview]} versions: by date, and a preview before the release of the same date. */
    static int compareVersions(String a, String b) {
        int byDate = a.substring(0, 10).compareTo(b.substring(0, 10));
        if (byDate != 0) {
            return byDate;
        }
        return Boolean.compare(!a.endsWith("-preview"), !b.endsWith("-preview"));
    }

    private static boolean realDate(String text) {
        try {
            LocalDate.parse(text);
            return true;
        } catch (DateTimeParseException e) {
            return false;
        }
    }

    private String firstHub() {
        return allocator.hubs().get(0).hostName();
    }

    private String linkedHubs() {
        return String.join(", ", allocator.hubs().stream().map(LinkedHub::hostName).toList());
    }
}
