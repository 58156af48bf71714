/**
 * The hub side of provisioning: the {@link io.opendps.core.hub.HubConnector} port the registrar writes device
 * identities and initial twins through, the {@link io.opendps.core.hub.BuiltInHub} that OpenDPS serves itself, and
 * the {@link io.opendps.core.hub.WebhookHubConnector} that hands devices to the user's backend over signed HTTP
 * calls (protocol, signature and retry rules in its javadoc and in the README, "Webhook hub connector").
 */
@NullMarked
package io.opendps.core.hub;

import org.jspecify.annotations.NullMarked;
