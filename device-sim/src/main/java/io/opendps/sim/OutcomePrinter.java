package io.opendps.sim;

import io.opendps.core.json.Json;
import io.opendps.core.registration.DeviceRegistrationState;
import java.io.PrintWriter;

/**
 * Prints an outcome the way the Azure quickstart sample does, or as the raw answer JSON. Results go to the
 * command's standard output, failures to its error output. Stateless.
 */
final class OutcomePrinter {

    private OutcomePrinter() {
    }

    /**
     * Prints the outcome.
     *
     * @param outcome the attempt's outcome
     * @param out standard output of the command
     * @param err error output of the command
     * @param json whether to print the last answer's body as received instead of text
     * @return the exit code: 0 when assigned, 1 otherwise
     */
    static int print(ProvisioningOutcome outcome, PrintWriter out, PrintWriter err, boolean json) {
        if (json && outcome.responseBody() != null) {
            out.println(outcome.responseBody());
        } else if (outcome.assigned() && !json) {
            printAssigned(outcome, out);
        } else {
            err.println(outcome.describe());
        }
        out.flush();
        err.flush();
        return outcome.assigned() ? 0 : 1;
    }

    private static void printAssigned(ProvisioningOutcome outcome, PrintWriter out) {
        out.println(outcome.describe());
        DeviceRegistrationState state = outcome.registrationState();
        if (state == null) {
            return;
        }
        out.println("IoT Hub: " + state.assignedHub());
        out.println("Device ID: " + state.deviceId());
        if (state.substatus() != null) {
            out.println("Substatus: " + ProvisioningOutcome.wireText(state.substatus()));
        }
        if (state.payload() != null) {
            out.println("Payload: " + Json.toText(state.payload()));
        }
    }
}
