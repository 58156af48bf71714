package io.opendps.broker.http;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.opendps.core.error.ErrorCode;
import java.time.Instant;

/**
 * An {@link HttpObjectAggregator} whose "body too large" answer is an Azure error body (413, {@code errorCode}
 * 413001, {@code x-ms-error-code}) instead of Netty's empty 413, so clients show a reason. Connection handling is
 * Netty's: the connection stays open (the rest of the body is discarded) only when the body has not started
 * arriving and the client keeps the connection alive.
 *
 * <p>A refused {@code Expect: 100-continue} keeps Netty's empty 413 on purpose: the JDK 17 {@code HttpClient}
 * consumes the body of a refused expectation and then waits forever to read it again, so any body would hang it.
 * None of the Azure clients sends {@code Expect}.
 *
 * <p>One instance per channel, like its superclass.
 */
final class ApiObjectAggregator extends HttpObjectAggregator {

    ApiObjectAggregator(int maxContentLength) {
        super(maxContentLength);
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) throws Exception {
        if (!(oversized instanceof HttpRequest)) {
            super.handleOversizedMessage(ctx, oversized);
            return;
        }
        boolean keepAlive = !(oversized instanceof FullHttpMessage)
                && (HttpUtil.is100ContinueExpected(oversized) || HttpUtil.isKeepAlive(oversized));
        ctx.writeAndFlush(ServiceApiHandler.toNetty(tooLarge(maxContentLength()), keepAlive))
                .addListener(keepAlive ? ChannelFutureListener.CLOSE_ON_FAILURE : ChannelFutureListener.CLOSE);
    }

    private static ApiResponse tooLarge(int maxContentLength) {
        return ApiResponse.error(ErrorCode.PAYLOAD_TOO_LARGE, "the request body is larger than the service's "
                + maxContentLength / 1024 + " KB message limit", Instant.now());
    }
}
