package io.opendps.core.enrollment;

/** {@code {"iotEdge": bool}}; always emitted, default {@code false}. */
public record DeviceCapabilities(boolean iotEdge) {

    /** The default: not an IoT Edge device. */
    public static final DeviceCapabilities NONE = new DeviceCapabilities(false);
}
