package io.opendps.core.enrollment;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.net.URI;
import java.net.URISyntaxException;
import org.jspecify.annotations.Nullable;

/**
 * {@code {"webhookUrl": string, "apiVersion": string}}: the webhook a {@code custom} allocation policy calls
 * ({@code dps-service-api.md} §3.1, §9.3). Components are nullable because this record is also the request body;
 * the enrollment rules require both keys (a 400 names the missing one) before anything is stored:
 *
 * <ul>
 *   <li>{@code webhookUrl}: an absolute {@code https} URL with a host, or {@code http} (accepted for self-hosted
 *       webhooks on a trusted network; the request and any {@code ?code=} key then travel in clear text).</li>
 *   <li>{@code apiVersion}: {@code yyyy-MM-dd} or {@code yyyy-MM-dd-preview}, at least {@code 2018-09-01-preview}
 *       (the oldest schema Azure offers to webhooks).</li>
 * </ul>
 *
 * <p>The URL usually carries a secret in its query string (Azure Functions' {@code ?code=}): log
 * {@link #maskedWebhookUrl()}, never the URL itself. The full URL is returned on GET, as the cloud service does.
 */
@JsonPropertyOrder({"webhookUrl", "apiVersion"})
public record CustomAllocationDefinition(@Nullable String webhookUrl, @Nullable String apiVersion) {

    /** The webhook URL with its query string (and user info) replaced by {@code ****}, safe to log. */
    public String maskedWebhookUrl() {
        return mask(webhookUrl);
    }

    /** {@code url} with its query string replaced by {@code ?****}, user info dropped; {@code "?"} when unreadable. */
    static String mask(@Nullable String url) {
        if (url == null) {
            return "?";
        }
        try {
            URI uri = new URI(url);
            if (uri.getScheme() == null || uri.getHost() == null) {
                return "?";
            }
            String port = uri.getPort() < 0 ? "" : ":" + uri.getPort();
            String path = uri.getRawPath() == null ? "" : uri.getRawPath();
            return uri.getScheme() + "://" + uri.getHost() + port + path + (uri.getRawQuery() == null ? "" : "?****");
        } catch (URISyntaxException e) {
            return "?";
        }
    }
}
