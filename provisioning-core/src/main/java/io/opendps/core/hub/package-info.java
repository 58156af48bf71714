/**
 * The hub side of provisioning: the {@link io.opendps.core.hub.HubConnector} port the registrar writes device
 * identities and initial twins through, and the {@link io.opendps.core.hub.BuiltInHub} that OpenDPS serves itself.
 */
@NullMarked
package io.opendps.core.hub;

import org.jspecify.annotations.NullMarked;
