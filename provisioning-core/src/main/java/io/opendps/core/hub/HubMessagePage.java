package io.opendps.core.hub;

import java.util.List;

/**
 * A read of a hub's telemetry log, oldest first: {@code {"messages": [...], "next": n}}. Pass {@code next} as the
 * {@code after} cursor of the following read (it is the last message's sequence, or the cursor sent when there was
 * nothing new), which is how {@code hub messages --follow} polls.
 *
 * @param messages the messages, oldest first
 * @param next the cursor for the next read
 */
public record HubMessagePage(List<HubMessage> messages, long next) {

    public HubMessagePage {
        messages = List.copyOf(messages);
    }

    /** The page of a read after {@code after}. */
    public static HubMessagePage of(List<HubMessage> messages, long after) {
        return new HubMessagePage(messages, messages.isEmpty() ? after : messages.get(messages.size() - 1).sequence());
    }
}
