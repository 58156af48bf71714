package io.opendps.broker.http;

import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.opendps.core.error.ErrorCode;
import java.io.IOException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Translates Netty HTTP requests to {@link ApiRequest}s, runs the {@link DeviceApi} (paths
 * {@code /{idScope}/registrations/...}, with the TLS session's client certificate chain) or else the
 * {@link ServiceApi} on the worker pool and writes the response on the channel's event loop. A full pool answers
 * 429 with {@code Retry-After}. A request the HTTP decoder could not parse gets a 400 error body and
 * the connection is closed. The last handler of the pipeline: logs unexpected exceptions with the connection and
 * closes it; peer resets, clients leaving mid-request and TLS failures are not errors.
 */
final class ServiceApiHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    private static final Logger LOG = LoggerFactory.getLogger(ServiceApiHandler.class);

    private final ServiceApi api;
    private final DeviceApi devices;
    private final Executor pool;

    ServiceApiHandler(ServiceApi api, DeviceApi devices, Executor pool) {
        this.api = api;
        this.devices = devices;
        this.pool = pool;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest msg) {
        if (!msg.decoderResult().isSuccess()) {
            // The decoder discards the rest of the connection after a malformed request: answer, then close.
            Throwable cause = msg.decoderResult().cause();
            LOG.debug("malformed https request [remote: {}, reason: {}]", ctx.channel().remoteAddress(),
                    String.valueOf(cause));
            write(ctx, ApiResponse.error(ErrorCode.INVALID_ARGUMENT, "malformed HTTP request: "
                    + (cause == null || cause.getMessage() == null ? "unreadable" : cause.getMessage()),
                    Instant.now()), false);
            return;
        }
        boolean keepAlive = HttpUtil.isKeepAlive(msg);
        ApiRequest request = toApiRequest(msg);
        boolean device = DeviceApi.serves(request.segments());
        CompletableFuture<ApiResponse> response;
        try {
            if (device) {
                List<X509Certificate> chain = clientCertificates(ctx);
                response = CompletableFuture.supplyAsync(() -> devices.handle(request, chain), pool);
            } else {
                response = CompletableFuture.supplyAsync(() -> api.handle(request), pool);
            }
        } catch (RejectedExecutionException e) {
            ApiResponse busy = device ? DeviceApi.error(ErrorCode.THROTTLED, "the server is busy; retry after the "
                    + "given time", null, Instant.now())
                    : ApiResponse.error(ErrorCode.THROTTLED, "the server is busy; retry later", Instant.now());
            Map<String, String> h = new HashMap<>(busy.headers());
            h.put("Retry-After", "2");
            response = CompletableFuture.completedFuture(new ApiResponse(busy.status(), h, busy.body()));
        }
        response.whenCompleteAsync((r, e) -> write(ctx, r, keepAlive), ctx.executor());
    }

    /** The client certificate chain of the connection's TLS session, leaf first; empty when none was sent. */
    private static List<X509Certificate> clientCertificates(ChannelHandlerContext ctx) {
        SslHandler ssl = ctx.pipeline().get(SslHandler.class);
        if (ssl == null) {
            return List.of();
        }
        try {
            List<X509Certificate> chain = new ArrayList<>();
            for (Certificate c : ssl.engine().getSession().getPeerCertificates()) {
                if (c instanceof X509Certificate x509) {
                    chain.add(x509);
                }
            }
            return chain;
        } catch (SSLPeerUnverifiedException e) {
            return List.of();
        }
    }

    private static ApiRequest toApiRequest(FullHttpRequest msg) {
        QueryStringDecoder decoder = new QueryStringDecoder(msg.uri());
        List<String> segments = new ArrayList<>();
        for (String s : decoder.path().split("/")) {
            if (!s.isEmpty()) {
                segments.add(QueryStringDecoder.decodeComponent(s));
            }
        }
        Map<String, String> query = new HashMap<>();
        decoder.parameters().forEach((k, v) -> query.put(k, v.isEmpty() ? "" : v.get(0)));
        Map<String, String> headers = new HashMap<>();
        msg.headers().forEach(h -> headers.putIfAbsent(h.getKey(), h.getValue()));
        return new ApiRequest(msg.method().name(), segments, query, headers, ByteBufUtil.getBytes(msg.content()));
    }

    /** Writes a response; closes the connection after it unless {@code keepAlive}. */
    static void write(ChannelHandlerContext ctx, ApiResponse r, boolean keepAlive) {
        var future = ctx.writeAndFlush(toNetty(r, keepAlive));
        future.addListener(keepAlive ? ChannelFutureListener.CLOSE_ON_FAILURE : ChannelFutureListener.CLOSE);
    }

    /** The Netty form of a response, with {@code Content-Length} and {@code Connection}. */
    static FullHttpResponse toNetty(ApiResponse r, boolean keepAlive) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.valueOf(r.status()), Unpooled.wrappedBuffer(r.body()));
        r.headers().forEach((k, v) -> response.headers().set(k, v));
        HttpUtil.setContentLength(response, r.body().length); // Netty's encoder drops it again on a 204.
        HttpUtil.setKeepAlive(response, keepAlive);
        return response;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof IdleStateEvent) {
            ctx.close();
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException || cause.getCause() instanceof SSLException
                || cause instanceof PrematureChannelClosureException) {
            LOG.debug("https connection closed [remote: {}, reason: {}]", ctx.channel().remoteAddress(),
                    cause.toString());
        } else {
            LOG.warn("https connection failed [remote: {}]", ctx.channel().remoteAddress(), cause);
        }
        ctx.close();
    }
}
