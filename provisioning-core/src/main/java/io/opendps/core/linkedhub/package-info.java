/**
 * Linked hubs as managed configuration: {@link io.opendps.core.linkedhub.LinkedHubService} (validation, If-Match,
 * the in-memory snapshot that allocation and the hub connectors read), the wire shapes of
 * {@code /linkedHubs/{hostName}} and {@code /settings/allocation}, and the stored record.
 */
@NullMarked
package io.opendps.core.linkedhub;

import org.jspecify.annotations.NullMarked;
