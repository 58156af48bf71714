package io.opendps.sim;

import com.hivemq.client.mqtt.exceptions.ConnectionClosedException;
import com.hivemq.client.mqtt.mqtt3.exceptions.Mqtt3ConnAckException;
import com.hivemq.client.mqtt.mqtt3.exceptions.Mqtt3SubAckException;
import com.hivemq.client.mqtt.mqtt3.message.connect.connack.Mqtt3ConnAckReturnCode;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.net.ssl.SSLException;
import org.jspecify.annotations.Nullable;

/** Turns MQTT client exceptions into one-line reasons a person can act on. Stateless. */
final class FailureMessages {

    /** Alerts a server sends about the client's certificate (or its absence), as the JDK reports them. */
    private static final Set<String> CLIENT_CERTIFICATE_ALERTS = Stream.of("bad_certificate", "certificate_unknown",
            "unknown_ca", "certificate_required", "certificate_expired", "certificate_revoked",
            "unsupported_certificate", "access_denied").map(alert -> "Received fatal alert: " + alert)
            .collect(Collectors.toUnmodifiableSet());

    private FailureMessages() {
    }

    /** A short reason for a failure of the connection or of a request on it. */
    static String describe(@Nullable Throwable error) {
        Throwable e = unwrap(error);
        if (e == null) {
            return "unknown cause";
        }
        if (e instanceof Mqtt3ConnAckException connAck) {
            Mqtt3ConnAckReturnCode code = connAck.getMqttMessage().getReturnCode();
            return "the server refused the connection: CONNACK return code " + code.getCode() + " (" + code + ")";
        }
        if (e instanceof Mqtt3SubAckException subAck) {
            return "the server refused the subscription: SUBACK " + subAck.getMqttMessage().getReturnCodes()
                    + ", expected QoS 1";
        }
        return describeCause(e);
    }

    private static String describeCause(Throwable e) {
        Throwable tls = find(e, SSLException.class);
        if (tls != null && CLIENT_CERTIFICATE_ALERTS.contains(message(tls))) {
            return "TLS handshake failed: the server refused the client certificate (none sent, or not issued by a "
                    + "CA the server trusts): " + message(tls);
        }
        if (tls != null) {
            return "TLS handshake failed (is the CA trusted and does the certificate name the host?): "
                    + message(tls);
        }
        if (find(e, ConnectException.class) != null || find(e, NoRouteToHostException.class) != null) {
            return "connection refused or host unreachable (" + message(rootCause(e)) + ")";
        }
        if (find(e, UnknownHostException.class) != null) {
            return "unknown host: " + message(rootCause(e));
        }
        if (e instanceof ConnectionClosedException) {
            return "the server closed the connection: " + message(e);
        }
        return message(rootCause(e));
    }

    private static @Nullable Throwable unwrap(@Nullable Throwable error) {
        Throwable e = error;
        while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }

    private static @Nullable Throwable find(Throwable error, Class<? extends Throwable> type) {
        for (Throwable e = error; e != null; e = e.getCause() == e ? null : e.getCause()) {
            if (type.isInstance(e)) {
                return e;
            }
        }
        return null;
    }

    private static Throwable rootCause(Throwable error) {
        Throwable e = error;
        while (e.getCause() != null && e.getCause() != e) {
            e = e.getCause();
        }
        return e;
    }

    private static String message(Throwable e) {
        String text = e.getMessage();
        return text == null || text.isBlank() ? e.getClass().getSimpleName() : text;
    }
}
