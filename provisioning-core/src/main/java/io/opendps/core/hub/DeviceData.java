package io.opendps.core.hub;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** A device's twin data as it moves between hubs. */
public record DeviceData(ObjectNode tags, ObjectNode desired, ObjectNode reported) { }
