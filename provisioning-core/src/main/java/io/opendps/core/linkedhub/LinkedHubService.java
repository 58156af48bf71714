package io.opendps.core.linkedhub;

import io.opendps.core.allocation.Allocator;
import io.opendps.core.allocation.LinkedHub;
import io.opendps.core.enrollment.AllocationPolicy;
import io.opendps.core.enrollment.Etags;
import io.opendps.core.error.ErrorCode;
import io.opendps.core.error.ProvisioningException;
import io.opendps.core.hub.BuiltInHub;
import io.opendps.core.hub.HubConnector;
import io.opendps.core.hub.HubConnectors;
import io.opendps.core.store.DuplicateKeyException;
import io.opendps.core.store.LinkedHubStore;
import io.opendps.core.store.StaleVersionException;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The linked hubs and the service-wide default allocation policy ({@code dps-service-api.md} §9.1) as managed
 * configuration: stored, validated, changed through the service API, and read by allocation and the hub connectors
 * without a store round trip.
 *
 * <p>Reads go to an immutable in-memory snapshot (hubs, default policy, the built-in hub names and one connector per
 * webhook hub); every write goes to the store first and then replaces the snapshot, under one lock, so the next
 * registration sees the change. This process is the only writer of its database (the H2 file is exclusive), so the
 * snapshot cannot go stale behind its back.
 *
 * <p>Decisions (Azure links hubs on the ARM plane through connection strings; OpenDPS has its own resource):
 * <ul>
 *   <li>Host names are case-insensitive and stored lower-case: DNS labels of {@code a-z 0-9 -} (1–63 characters, no
 *       leading or trailing hyphen), at least two labels (the Azure Java device client refuses a hub name without a
 *       dot), at most 253 characters; IPv4 literals such as {@code 127.0.0.2} pass this rule.</li>
 *   <li>{@code allocationWeight} 1–1000 (null = 1), {@code applyAllocationPolicy} null = true, {@code location}
 *       free-form (letters, digits, space, {@code . _ -}, at most 128 characters). At most 50 hubs.</li>
 *   <li>The connector is {@code builtIn} (default) or {@code webhook} with an http(s) URL and a shared secret of
 *       16–512 characters. The secret is write-only: reads show {@code ****} and the URL's query masked; sending a
 *       masked value back keeps the stored one; a new webhook hub needs both.</li>
 *   <li>{@code If-Match} as for enrollments (§4): absent on an existing hub → 409; {@code *} → create or replace;
 *       the current etag → replace; another etag, or one for an absent hub → 412. Delete checks it when sent.</li>
 *   <li>The default policy is {@code hashed} at first start; {@code hashed}, {@code geoLatency} or {@code static}
 *       may be set; {@code custom} is refused with 400 (it needs a per-enrollment webhook).</li>
 *   <li>Removing a hub keeps the devices' data in it (a built-in hub's devices can no longer connect; linking the
 *       name again brings them back) and keeps registration records that name it; enrollments listing it fail
 *       their devices' next allocation with {@code 400208}.</li>
 *   <li>A built-in hub added at run time is served at once, but the TLS certificate is only re-issued with its name
 *       at the next start: {@link LinkedHubView#certificateCoversHostName()} says so.</li>
 * </ul>
 *
 * <p>Thread-safe. Writes are synchronous store work (run them on a worker pool); reads of the snapshot are cheap.
 */
public final class LinkedHubService implements Allocator.Source {

    private static final Logger LOG = LoggerFactory.getLogger(LinkedHubService.class);
    private static final Logger AUDIT = LoggerFactory.getLogger("io.opendps.audit");
    /** Azure's limit of linked hubs per service. */
    public static final int MAX_HUBS = 50;
    private static final Pattern LABEL = Pattern.compile("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$");
    private static final Pattern LOCATION = Pattern.compile("^[A-Za-z0-9 ._-]{1,128}$");
    private static final int MIN_SECRET = 16;
    private static final int MAX_SECRET = 512;

    private final LinkedHubStore store;
    private final Clock clock;
    private final Function<StoredLinkedHub, HubConnector> webhookConnectors;
    private final Object writeLock = new Object();
    private volatile Predicate<String> certificateCovers = h -> true;
    private volatile Snapshot snapshot;

    /** What readers see: replaced as a whole after every write. */
    private record Snapshot(List<StoredLinkedHub> stored, List<LinkedHub> hubs, Set<String> builtIn,
            Map<String, HubConnector> webhooks, AllocationPolicy defaultPolicy) {
    }

    /**
     * @param store where hubs and the default policy live
     * @param webhookConnectors makes the connector of a webhook hub (called on every reload for each webhook hub)
     * @param clock timestamps
     */
    public LinkedHubService(LinkedHubStore store, Function<StoredLinkedHub, HubConnector> webhookConnectors,
            Clock clock) {
        this.store = Objects.requireNonNull(store, "store");
        this.webhookConnectors = Objects.requireNonNull(webhookConnectors, "webhookConnectors");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.snapshot = load();
    }

    /**
     * Startup: on the first start (no default policy stored yet) links {@code firstStartHubs} with the built-in
     * connector and stores the default policy {@code hashed}; on every start links each of {@code ensureHubs} that
     * is missing (built-in connector), leaving existing hubs as the API left them.
     *
     * @throws ProvisioningException when a name is not a valid hub host name
     */
    public void initialize(List<String> firstStartHubs, List<String> ensureHubs) {
        synchronized (writeLock) {
            Instant now = clock.instant();
            List<StoredLinkedHub> seed = firstStartHubs.stream().map(h -> builtIn(h, now)).toList();
            if (store.seed(AllocationPolicy.HASHED, seed)) {
                AUDIT.info("linked hubs seeded at first start [hubs: {}]", firstStartHubs);
            }
            for (String name : ensureHubs) {
                StoredLinkedHub hub = builtIn(name, now);
                if (store.find(hub.hostName()).isEmpty()) {
                    if (store.list().size() >= MAX_HUBS) {
                        throw limit(hub.hostName());
                    }
                    try {
                        store.insert(hub);
                        AUDIT.info("linked hub added from --hub [host-name: {}, connector: builtIn]", hub.hostName());
                    } catch (DuplicateKeyException e) {
                        LOG.debug("linked hub {} appeared concurrently", hub.hostName());
                    }
                }
            }
            snapshot = load();
        }
    }

    /** Tells which host names the running server's TLS certificate covers (for built-in hub views). */
    public void certificateCovers(Predicate<String> covers) {
        this.certificateCovers = Objects.requireNonNull(covers, "covers");
    }

    // --- reads (snapshot) ---

    @Override
    public List<LinkedHub> hubs() {
        return snapshot.hubs();
    }

    @Override
    public AllocationPolicy defaultPolicy() {
        return snapshot.defaultPolicy();
    }

    /** The lower-case host names of the hubs with the built-in connector, now. */
    public Set<String> builtInHubs() {
        return snapshot.builtIn();
    }

    /** The connector lookup: {@code builtIn} for built-in hubs, the hub's webhook connector for webhook hubs. */
    public HubConnectors connectors(BuiltInHub builtIn) {
        Objects.requireNonNull(builtIn, "builtIn");
        return hub -> {
            Snapshot s = snapshot;
            String key = hub.toLowerCase(Locale.ROOT);
            if (s.builtIn().contains(key)) {
                return Optional.of(builtIn);
            }
            return Optional.ofNullable(s.webhooks().get(key));
        };
    }

    /** Every linked hub, ordered by host name. */
    public List<LinkedHubView> list() {
        return snapshot.stored().stream().map(this::view).toList();
    }

    /** One hub; 404 when not linked. */
    public LinkedHubView get(String hostName) {
        return view(find(snapshot, hostName).orElseThrow(() -> notFound(hostName)));
    }

    /** The service-wide allocation settings. */
    public AllocationSettings allocationSettings() {
        return new AllocationSettings(snapshot.defaultPolicy());
    }

    // --- writes ---

    /**
     * Links or replaces a hub (see the class comment for the rules).
     *
     * @param actor the name of the policy that authorised the request (audit)
     */
    public LinkedHubView put(String hostName, LinkedHubRequest request, @Nullable String ifMatch, String actor) {
        String key = validHostName(hostName);
        if (request.hostName() != null && !request.hostName().isEmpty()
                && !request.hostName().equalsIgnoreCase(key)) {
            throw invalid("hostName '%s' in the body does not match '%s' in the path", request.hostName(), hostName);
        }
        int weight = request.allocationWeight() == null ? 1 : request.allocationWeight();
        if (weight < 1 || weight > 1000) {
            throw invalid("allocationWeight must be 1..1000, was %d", weight);
        }
        String location = request.location();
        if (location != null && !LOCATION.matcher(location).matches()) {
            throw invalid("location '%s' is not a region name: use 1-128 letters, digits, spaces, '.', '_' or '-'",
                    location);
        }
        ConnectorDocument connector = request.connector();
        ConnectorType type = parseType(connector);
        synchronized (writeLock) {
            Optional<StoredLinkedHub> existing = store.find(key);
            checkPrecondition(key, existing, ifMatch, true);
            String url = null;
            String secret = null;
            if (type == ConnectorType.WEBHOOK) {
                Optional<StoredLinkedHub> oldWebhook = existing.filter(e -> e.connector() == ConnectorType.WEBHOOK);
                url = webhookUrl(Objects.requireNonNull(connector).url(), oldWebhook);
                secret = webhookSecret(connector.secret(), oldWebhook);
            }
            if (existing.isEmpty() && store.list().size() >= MAX_HUBS) {
                throw limit(key);
            }
            Instant now = clock.instant();
            StoredLinkedHub toStore = new StoredLinkedHub(new LinkedHub(key, weight,
                    request.applyAllocationPolicy() == null || request.applyAllocationPolicy(), location), type, url,
                    secret, Etags.newEnrollmentEtag(), existing.map(StoredLinkedHub::created).orElse(now), now);
            try {
                if (existing.isPresent()) {
                    store.replace(toStore, existing.get().etag());
                } else {
                    store.insert(toStore);
                }
            } catch (StaleVersionException | DuplicateKeyException e) {
                throw new ProvisioningException(ErrorCode.LINKED_HUB_PRECONDITION_FAILED, "linked hub '%s' was "
                        + "changed concurrently; read it again and retry", key);
            }
            snapshot = load();
            AUDIT.info("linked hub {} [host-name: {}, weight: {}, apply-allocation-policy: {}, location: {}, "
                    + "connector: {}, url: {}, by: {}]", existing.isPresent() ? "replaced" : "added", key, weight,
                    toStore.hub().applyAllocationPolicy(), location, type,
                    url == null ? "-" : LinkedHubView.maskQuery(url), actor);
            return view(toStore);
        }
    }

    /** Unlinks a hub; 404 when not linked, 412 on an etag mismatch. */
    public void delete(String hostName, @Nullable String ifMatch, String actor) {
        String key = hostName.toLowerCase(Locale.ROOT);
        synchronized (writeLock) {
            StoredLinkedHub existing = store.find(key).orElseThrow(() -> notFound(hostName));
            checkPrecondition(key, Optional.of(existing), ifMatch, false);
            try {
                if (!store.delete(key, existing.etag())) {
                    throw notFound(hostName);
                }
            } catch (StaleVersionException e) {
                throw new ProvisioningException(ErrorCode.LINKED_HUB_PRECONDITION_FAILED, "linked hub '%s' was "
                        + "changed concurrently; read it again and retry", key);
            }
            snapshot = load();
            AUDIT.info("linked hub removed [host-name: {}, connector: {}, by: {}]", key, existing.connector(), actor);
        }
    }

    /** Sets the service-wide default allocation policy; {@code custom} and null are 400. */
    public AllocationSettings setAllocationSettings(AllocationSettings settings, String actor) {
        AllocationPolicy policy = settings.allocationPolicy();
        if (policy == null) {
            throw invalid("allocationPolicy is required: hashed, geoLatency or static");
        }
        if (policy == AllocationPolicy.CUSTOM) {
            throw invalid("allocationPolicy custom cannot be the service default (it needs an enrollment's "
                    + "customAllocationDefinition): use hashed, geoLatency or static");
        }
        synchronized (writeLock) {
            AllocationPolicy old = snapshot.defaultPolicy();
            store.setDefaultPolicy(policy);
            snapshot = load();
            AUDIT.info("default allocation policy set [from: {}, to: {}, by: {}]", old, policy, actor);
        }
        return allocationSettings();
    }

    // --- helpers ---

    private Snapshot load() {
        List<StoredLinkedHub> stored = List.copyOf(store.list());
        Map<String, HubConnector> webhooks = new HashMap<>();
        Set<String> builtIn = new LinkedHashSet<>();
        List<LinkedHub> hubs = new ArrayList<>();
        for (StoredLinkedHub s : stored) {
            hubs.add(s.hub());
            if (s.connector() == ConnectorType.BUILT_IN) {
                builtIn.add(s.hostName());
            } else {
                webhooks.put(s.hostName(), webhookConnectors.apply(s));
            }
        }
        return new Snapshot(stored, List.copyOf(hubs), Set.copyOf(builtIn), Map.copyOf(webhooks),
                store.defaultPolicy().orElse(AllocationPolicy.HASHED));
    }

    private LinkedHubView view(StoredLinkedHub stored) {
        return LinkedHubView.of(stored, certificateCovers.test(stored.hostName()));
    }

    private static Optional<StoredLinkedHub> find(Snapshot s, String hostName) {
        String key = hostName.toLowerCase(Locale.ROOT);
        return s.stored().stream().filter(h -> h.hostName().equals(key)).findFirst();
    }

    private StoredLinkedHub builtIn(String name, Instant now) {
        return new StoredLinkedHub(LinkedHub.of(validHostName(name)), ConnectorType.BUILT_IN, null, null,
                Etags.newEnrollmentEtag(), now, now);
    }

    /** The lower-case host name, or 400 naming the rule. */
    public static String validHostName(String hostName) {
        String key = hostName.toLowerCase(Locale.ROOT);
        if (key.isEmpty() || key.length() > 253) {
            throw invalid("hub host name must be 1-253 characters, was %d", key.length());
        }
        String[] labels = key.split("\\.", -1);
        if (labels.length < 2) {
            throw invalid("hub host name '%s' needs at least one dot (e.g. hub-1.iot.example.com or 127.0.0.2): the "
                    + "Azure device SDKs refuse hub names without one", hostName);
        }
        for (String label : labels) {
            if (!LABEL.matcher(label).matches()) {
                throw invalid("hub host name '%s' is not a DNS name: each dot-separated label must be 1-63 "
                        + "characters a-z, 0-9 or '-', not starting or ending with '-'", hostName);
            }
        }
        return key;
    }

    private static ConnectorType parseType(@Nullable ConnectorDocument connector) {
        if (connector == null || connector.type() == null) {
            if (connector != null && (connector.url() != null || connector.secret() != null)) {
                throw invalid("connector.type is required with connector.url or connector.secret: use webhook");
            }
            return ConnectorType.BUILT_IN;
        }
        ConnectorType type;
        try {
            type = ConnectorType.parse(connector.type());
        } catch (IllegalArgumentException e) {
            throw invalid("connector.type: %s", e.getMessage());
        }
        if (type == ConnectorType.BUILT_IN && (connector.url() != null || connector.secret() != null)) {
            throw invalid("connector.url and connector.secret only apply to connector.type webhook");
        }
        return type;
    }

    private static String webhookUrl(@Nullable String url, Optional<StoredLinkedHub> old) {
        if (url == null || url.isEmpty()) {
            throw invalid("connector.url is required for a webhook hub, e.g. https://backend.example.com/opendps");
        }
        if (old.isPresent() && url.equals(LinkedHubView.maskQuery(old.get().webhookUrl()))) {
            return Objects.requireNonNull(old.get().webhookUrl());
        }
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw invalid("connector.url is not a URL: %s", e.getMessage());
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("https") && !scheme.equals("http") || uri.getHost() == null) {
            throw invalid("connector.url must be an absolute http or https URL with a host, was '%s'",
                    LinkedHubView.maskQuery(url));
        }
        if (uri.getRawUserInfo() != null || uri.getRawFragment() != null || url.length() > 2048) {
            throw invalid("connector.url must not carry user info or a fragment and must be at most 2048 "
                    + "characters; put credentials in connector.secret");
        }
        return url;
    }

    private static String webhookSecret(@Nullable String secret, Optional<StoredLinkedHub> old) {
        if (secret == null || secret.isEmpty() || secret.equals(ConnectorDocument.MASK)) {
            return old.map(StoredLinkedHub::webhookSecret).orElseThrow(() -> invalid("connector.secret is required "
                    + "for a new webhook hub (%d-%d characters; keep it out of logs)", MIN_SECRET, MAX_SECRET));
        }
        if (secret.length() < MIN_SECRET || secret.length() > MAX_SECRET) {
            throw invalid("connector.secret must be %d-%d characters, was %d", MIN_SECRET, MAX_SECRET,
                    secret.length());
        }
        return secret;
    }

    private static void checkPrecondition(String key, Optional<StoredLinkedHub> existing, @Nullable String ifMatch,
            boolean put) {
        if (ifMatch == null) {
            if (put && existing.isPresent()) {
                throw new ProvisioningException(ErrorCode.LINKED_HUB_EXISTS, "linked hub '%s' exists; send If-Match "
                        + "with its etag (or *) to replace it", key);
            }
            return;
        }
        if (Etags.isWildcard(ifMatch)) {
            return;
        }
        if (existing.isEmpty() || !Etags.matches(ifMatch, existing.get().etag())) {
            throw new ProvisioningException(ErrorCode.LINKED_HUB_PRECONDITION_FAILED, existing.isEmpty()
                    ? "linked hub '%s' does not exist, so If-Match cannot match" : "If-Match does not match the "
                    + "etag of linked hub '%s'; read it again", key);
        }
    }

    private static ProvisioningException limit(String key) {
        return new ProvisioningException(ErrorCode.LINKED_HUB_LIMIT_EXCEEDED, "cannot link hub '%s': a service links "
                + "at most %d hubs", key, MAX_HUBS);
    }

    private static ProvisioningException notFound(String hostName) {
        return new ProvisioningException(ErrorCode.LINKED_HUB_NOT_FOUND, "no linked hub '%s'",
                hostName.toLowerCase(Locale.ROOT));
    }

    private static ProvisioningException invalid(String format, Object... args) {
        return new ProvisioningException(ErrorCode.INVALID_ARGUMENT, format, args);
    }

    @Override
    public String toString() {
        return "LinkedHubService" + snapshot.hubs().stream().map(LinkedHub::hostName).collect(Collectors.toList());
    }
}
