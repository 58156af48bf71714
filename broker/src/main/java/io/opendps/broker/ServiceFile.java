package io.opendps.broker;

import io.opendps.core.service.AccessPolicy;
import io.opendps.core.service.AccessPolicyListener;
import io.opendps.core.service.AccessPolicyService;
import io.opendps.core.store.SettingsStore;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps {@code <data-dir>/service.json} usable while shared access policies change. The file's connection string
 * is the administrator policy's primary key ({@link AccessPolicyService#administrator}: the owner policy while it
 * holds {@code ServiceConfig}, otherwise the {@code ServiceConfig} policy with the most rights). After every policy
 * change made through this server the choice is made again and the file rewritten when the connection string
 * changed: a regenerated owner primary key, owner keys replaced by a PUT, the owner deleted or stripped of
 * {@code ServiceConfig}. So {@code ./opendps --data-dir} keeps working after the operator rotates the key it uses.
 *
 * <p>Decision: rewriting rather than letting the CLI fail. The file sits in the data directory next to the
 * database, which holds every key anyway, and is readable by the server's user only; writing another
 * administrator's key there exposes nothing new. Changes made by another process sharing the database are picked
 * up at the next start, when the server writes the file again.
 *
 * <p>Thread-safe: publishing and refreshing are serialised, and each refresh reads the policies afresh, so
 * concurrent changes end with the file matching the store.
 */
final class ServiceFile implements AccessPolicyListener {

    private static final Logger AUDIT = LoggerFactory.getLogger("io.opendps.audit");
    private static final Logger LOG = LoggerFactory.getLogger(ServiceFile.class);

    private final Path dataDir;
    private final SettingsStore settings;
    private @Nullable ServiceInfo current;

    ServiceFile(Path dataDir, SettingsStore settings) {
        this.dataDir = Objects.requireNonNull(dataDir, "dataDir");
        this.settings = Objects.requireNonNull(settings, "settings");
    }

    /** The service connection string for a policy: {@code HostName=host[:port];SharedAccessKeyName=...;...}. */
    static String connectionString(String host, int httpsPort, AccessPolicy policy) {
        String hostName = host + (httpsPort == ServerOptions.DPS_HTTPS_PORT ? "" : ":" + httpsPort);
        return "HostName=" + hostName + ";SharedAccessKeyName=" + policy.keyName() + ";SharedAccessKey="
                + policy.primaryKey();
    }

    /** Writes {@code info} and remembers it for later refreshes. */
    synchronized void publish(ServiceInfo info) {
        info.write(dataDir);
        current = info;
    }

    /** What the file holds now. */
    synchronized ServiceInfo current() {
        if (current == null) {
            throw new IllegalStateException("service.json has not been written yet");
        }
        return current;
    }

    @Override
    public void onWritten(AccessPolicy policy) {
        refresh();
    }

    @Override
    public void onDeleted(String keyName) {
        refresh();
    }

    /** Chooses the administrator policy again and rewrites the file when its connection string changed. */
    synchronized void refresh() {
        ServiceInfo info = current;
        if (info == null) {
            return;
        }
        Optional<AccessPolicy> administrator = AccessPolicyService.administrator(settings.policies());
        if (administrator.isEmpty()) {
            LOG.warn("no shared access policy holds ServiceConfig; {} left unchanged", ServiceInfo.FILE);
            return;
        }
        String connectionString = connectionString(info.httpsHost(), info.httpsPort(), administrator.get());
        if (connectionString.equals(info.serviceConnectionString())) {
            return;
        }
        ServiceInfo updated = info.withServiceConnectionString(connectionString);
        updated.write(dataDir);
        current = updated;
        AUDIT.info("{} connection string updated [key-name: {}]", ServiceInfo.FILE, administrator.get().keyName());
    }
}
