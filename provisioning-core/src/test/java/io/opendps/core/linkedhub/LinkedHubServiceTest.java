package io.opendps.core.linkedhub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.opendps.core.allocation.Allocation;
import io.opendps.core.allocation.Allocator;
import io.opendps.core.allocation.LinkedHub;
import io.opendps.core.enrollment.AllocationPolicy;
import io.opendps.core.error.ErrorCode;
import io.opendps.core.error.ProvisioningException;
import io.opendps.core.hub.BuiltInHub;
import io.opendps.core.hub.HubConnector;
import io.opendps.core.hub.HubConnectors;
import io.opendps.core.store.jdbc.JdbcHubStore;
import io.opendps.core.store.jdbc.JdbcLinkedHubStore;
import io.opendps.core.testing.MutableClock;
import io.opendps.core.testing.TestDatabase;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class LinkedHubServiceTest {

    private static final String HUB_A = "hub-a.example.com";
    private static final String HUB_B = "hub-b.example.com";
    private static final String SECRET = "0123456789abcdef-secret";

    private final MutableClock clock = new MutableClock(Instant.parse("2024-05-01T10:00:00Z"));
    private final List<StoredLinkedHub> webhooksMade = new ArrayList<>();
    private TestDatabase database;
    private LinkedHubService service;

    @BeforeEach
    void setUp() {
        database = TestDatabase.inMemory();
        service = newService();
        service.initialize(List.of(HUB_A), List.of());
    }

    @AfterEach
    void tearDown() {
        database.close();
    }

    private LinkedHubService newService() {
        return new LinkedHubService(new JdbcLinkedHubStore(database.db()), stored -> {
            webhooksMade.add(stored);
            return new BuiltInHub(List.of(stored.hostName()), new JdbcHubStore(database.db()), clock, 10);
        }, clock);
    }

    private static LinkedHubRequest hub(Integer weight, Boolean apply, String location, ConnectorDocument connector) {
        return new LinkedHubRequest(null, weight, apply, location, connector);
    }

    private static ProvisioningException error(Runnable r) {
        try {
            r.run();
        } catch (ProvisioningException e) {
            return e;
        }
        throw new AssertionError("expected a ProvisioningException");
    }

    @Test
    void initialize_firstStartSeedsOnce_flagsAddMissingHubsWithoutUndoingChanges() {
        assertThat(service.hubs()).containsExactly(LinkedHub.of(HUB_A));
        assertThat(service.defaultPolicy()).isEqualTo(AllocationPolicy.HASHED);
        LinkedHubView a = service.get(HUB_A);
        service.put(HUB_A, hub(7, false, "westeurope", null), a.etag(), "owner");
        service.delete(HUB_A, null, "owner");
        service.put(HUB_B, hub(3, true, null, null), null, "owner");

        LinkedHubService restarted = newService();
        restarted.initialize(List.of("seed-again.example.com"), List.of(HUB_B, "Hub-C.Example.com"));

        assertThat(restarted.hubs()).extracting(LinkedHub::hostName).containsExactly(HUB_B, "hub-c.example.com");
        assertThat(restarted.get(HUB_B).allocationWeight()).isEqualTo(3);
    }

    @Test
    void put_createsReadsAndReplaces_withEtags() {
        LinkedHubView created = service.put("HUB-B.example.com", hub(5, false, "northeurope", null), null, "owner");

        assertThat(created.hostName()).isEqualTo(HUB_B);
        assertThat(created.allocationWeight()).isEqualTo(5);
        assertThat(created.applyAllocationPolicy()).isFalse();
        assertThat(created.location()).isEqualTo("northeurope");
        assertThat(created.connector().type()).isEqualTo("builtIn");
        assertThat(created.etag()).startsWith("\"");
        assertThat(service.list()).extracting(LinkedHubView::hostName).containsExactly(HUB_A, HUB_B);

        assertThat(error(() -> service.put(HUB_B, hub(6, null, null, null), null, "owner")).code())
                .isEqualTo(ErrorCode.LINKED_HUB_EXISTS);
        assertThat(error(() -> service.put(HUB_B, hub(6, null, null, null), "\"stale\"", "owner")).code())
                .isEqualTo(ErrorCode.LINKED_HUB_PRECONDITION_FAILED);
        LinkedHubView replaced = service.put(HUB_B, hub(6, null, null, null), created.etag(), "owner");
        assertThat(replaced.allocationWeight()).isEqualTo(6);
        assertThat(replaced.applyAllocationPolicy()).isTrue();
        assertThat(replaced.etag()).isNotEqualTo(created.etag());
        assertThat(replaced.createdDateTimeUtc()).isEqualTo(created.createdDateTimeUtc());
        assertThat(service.put(HUB_B, hub(9, null, null, null), "*", "owner").allocationWeight()).isEqualTo(9);
    }

    @Test
    void put_refusesBadInput_andWritesNothing() {
        assertThat(error(() -> service.put(HUB_B, hub(0, null, null, null), null, "o")).getMessage())
                .contains("allocationWeight must be 1..1000, was 0");
        assertThat(error(() -> service.put(HUB_B, hub(1001, null, null, null), null, "o")).code())
                .isEqualTo(ErrorCode.INVALID_ARGUMENT);
        assertThat(error(() -> service.put("localhost", hub(1, null, null, null), null, "o")).getMessage())
                .contains("needs at least one dot");
        assertThat(error(() -> service.put("bad_name.example.com", hub(1, null, null, null), null, "o"))
                .getMessage()).contains("is not a DNS name");
        assertThat(error(() -> service.put("-x.example.com", hub(1, null, null, null), null, "o")).code())
                .isEqualTo(ErrorCode.INVALID_ARGUMENT);
        assertThat(error(() -> service.put(HUB_B, new LinkedHubRequest("other.example.com", 1, null, null, null),
                null, "o")).getMessage()).contains("does not match");
        assertThat(error(() -> service.put(HUB_B, hub(1, null, "west<europe>", null), null, "o")).getMessage())
                .contains("location");
        assertThat(error(() -> service.put(HUB_B, hub(1, null, null, new ConnectorDocument("mqtt", null, null)),
                null, "o")).getMessage()).contains("connector.type");
        assertThat(error(() -> service.put(HUB_B, hub(1, null, null,
                new ConnectorDocument("webhook", "ftp://x.example.com/", SECRET)), null, "o")).getMessage())
                .contains("http or https");
        assertThat(error(() -> service.put(HUB_B, hub(1, null, null,
                new ConnectorDocument("webhook", "https://x.example.com/", null)), null, "o")).getMessage())
                .contains("connector.secret is required");
        assertThat(error(() -> service.put(HUB_B, hub(1, null, null,
                new ConnectorDocument("webhook", "https://x.example.com/", "short")), null, "o")).getMessage())
                .contains("16-512");
        assertThat(error(() -> service.put(HUB_B, hub(1, null, null,
                new ConnectorDocument("builtIn", "https://x.example.com/", null)), null, "o")).getMessage())
                .contains("only apply to connector.type webhook");
        assertThat(service.hubs()).containsExactly(LinkedHub.of(HUB_A));
    }

    @Test
    void webhookHub_secretIsWriteOnly_andMaskedValuesKeepTheStoredOnes() {
        LinkedHubView created = service.put(HUB_B, hub(1, null, null, new ConnectorDocument("webhook",
                "https://backend.example.com/hook?code=abc", SECRET)), null, "owner");

        assertThat(created.connector()).isEqualTo(new ConnectorDocument("webhook",
                "https://backend.example.com/hook?****", "****"));
        assertThat(created.certificateCoversHostName()).isNull();
        assertThat(webhooksMade).last().satisfies(s -> {
            assertThat(s.webhookSecret()).isEqualTo(SECRET);
            assertThat(s.webhookUrl()).isEqualTo("https://backend.example.com/hook?code=abc");
            assertThat(s.toString()).doesNotContain(SECRET).doesNotContain("code=abc");
        });

        service.put(HUB_B, hub(4, null, null, created.connector()), created.etag(), "owner");

        assertThat(webhooksMade).last().satisfies(s -> {
            assertThat(s.hub().allocationWeight()).isEqualTo(4);
            assertThat(s.webhookSecret()).isEqualTo(SECRET);
            assertThat(s.webhookUrl()).isEqualTo("https://backend.example.com/hook?code=abc");
        });
    }

    @Test
    void delete_unknownIs404_staleEtagIs412() {
        assertThat(error(() -> service.delete("nope.example.com", null, "o")).code())
                .isEqualTo(ErrorCode.LINKED_HUB_NOT_FOUND);
        assertThat(error(() -> service.get("nope.example.com")).code()).isEqualTo(ErrorCode.LINKED_HUB_NOT_FOUND);
        assertThat(error(() -> service.delete(HUB_A, "\"old\"", "o")).code())
                .isEqualTo(ErrorCode.LINKED_HUB_PRECONDITION_FAILED);
        service.delete(HUB_A.toUpperCase(), service.get(HUB_A).etag(), "o");
        assertThat(service.hubs()).isEmpty();
    }

    @Test
    void put_refusesTheFiftyFirstHub() {
        for (int i = 2; i <= LinkedHubService.MAX_HUBS; i++) {
            service.put("hub-" + i + ".example.com", hub(1, null, null, null), null, "o");
        }
        assertThat(service.hubs()).hasSize(50);

        ProvisioningException e = error(() -> service.put("hub-51.example.com", hub(1, null, null, null), null,
                "o"));

        assertThat(e.code()).isEqualTo(ErrorCode.LINKED_HUB_LIMIT_EXCEEDED);
        assertThat(e.getMessage()).contains("at most 50");
    }

    @Test
    void allocationSettings_defaultPolicyChangesAtOnce_customRefused() {
        assertThatThrownBy(() -> service.setAllocationSettings(new AllocationSettings(AllocationPolicy.CUSTOM), "o"))
                .isInstanceOf(ProvisioningException.class).hasMessageContaining("cannot be the service default");
        assertThatThrownBy(() -> service.setAllocationSettings(new AllocationSettings(null), "o"))
                .hasMessageContaining("allocationPolicy is required");

        service.setAllocationSettings(new AllocationSettings(AllocationPolicy.STATIC), "o");

        assertThat(service.defaultPolicy()).isEqualTo(AllocationPolicy.STATIC);
        assertThat(newService().defaultPolicy()).isEqualTo(AllocationPolicy.STATIC);
    }

    @Test
    void allocatorAndConnectors_followChangesAtOnce() {
        BuiltInHub builtIn = new BuiltInHub(service::builtInHubs, new JdbcHubStore(database.db()), clock, 10);
        Allocator allocator = new Allocator(service);
        HubConnectors connectors = service.connectors(builtIn);
        service.certificateCovers(h -> h.equals(HUB_A));

        assertThat(allocator.allocate("device-1", null)).isEqualTo(new Allocation.Assigned(HUB_A));
        LinkedHubView b = service.put(HUB_B, hub(1000, null, null, null), null, "o");
        assertThat(b.certificateCoversHostName()).isFalse();
        assertThat(builtIn.serves(HUB_B)).isTrue();
        assertThat(connectors.forHub(HUB_B)).contains(builtIn);

        service.put(HUB_A, hub(1, false, null, null), service.get(HUB_A).etag(), "o");
        assertThat(allocator.allocate("device-1", null)).isEqualTo(new Allocation.Assigned(HUB_B));

        service.put(HUB_B, hub(1, null, null, new ConnectorDocument("webhook", "http://127.0.0.1:9/", SECRET)),
                "*", "o");
        assertThat(builtIn.serves(HUB_B)).isFalse();
        assertThat(connectors.forHub(HUB_B)).get().isNotSameAs(builtIn).isInstanceOf(HubConnector.class);

        service.delete(HUB_B, null, "o");
        assertThat(connectors.forHub(HUB_B)).isEmpty();
        assertThat(allocator.allocate("device-1", null)).isInstanceOf(Allocation.Failed.class);
    }
}
