package io.opendps.core.hub;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The signature of a webhook hub call: {@code v1=} followed by the lower-case hex HMAC-SHA256, keyed with the UTF-8
 * bytes of the shared secret, of the ASCII timestamp (Unix seconds, as sent in {@value #TIMESTAMP_HEADER}), a
 * {@code .}, and the exact request body bytes. A backend recomputes it, compares in constant time, and rejects
 * timestamps more than a few minutes away from its clock (replay).
 */
public final class WebhookSignature {

    /** Header carrying the signature. */
    public static final String SIGNATURE_HEADER = "X-OpenDPS-Signature";
    /** Header carrying the signing time, Unix seconds. */
    public static final String TIMESTAMP_HEADER = "X-OpenDPS-Timestamp";
    /** Header carrying the idempotency key: the same for every retry of one call. */
    public static final String IDEMPOTENCY_HEADER = "X-OpenDPS-Idempotency-Key";
    /** Header naming the operation (also in the body). */
    public static final String OPERATION_HEADER = "X-OpenDPS-Operation";

    private WebhookSignature() {
    }

    /** The {@value #SIGNATURE_HEADER} value for {@code body} sent at {@code timestamp}. */
    public static String sign(String secret, long timestamp, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            mac.update((timestamp + ".").getBytes(StandardCharsets.US_ASCII));
            return "v1=" + HexFormat.of().formatHex(mac.doFinal(body));
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    /** Whether {@code signature} is the signature of {@code body} at {@code timestamp} (constant-time compare). */
    public static boolean verify(String secret, long timestamp, byte[] body, String signature) {
        return MessageDigest.isEqual(sign(secret, timestamp, body).getBytes(StandardCharsets.US_ASCII),
                signature.getBytes(StandardCharsets.US_ASCII));
    }
}
