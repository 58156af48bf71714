package io.opendps.broker.http;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTPS listener (TLS 1.2/1.3) of the service API and the device API ({@link DeviceApi}); its TLS context asks
 * for a client certificate without requiring one (X.509 devices). Request bodies are limited to the service's 96 KB
 * message size. Requests are decided on the worker pool; replies are written back on the channel's event loop.
 * Owns its event loops: {@link #close()} releases them.
 */
public final class HttpsServer implements AutoCloseable {

    static final String SSL = "ssl";
    static final String IDLE = "idle";
    static final String HTTP = "http";
    static final String AGGREGATOR = "aggregator";
    static final String API = "api";
    /** The service's maximum message size. */
    static final int MAX_BODY = 96 * 1024;

    private static final Logger LOG = LoggerFactory.getLogger(HttpsServer.class);

    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final Channel channel;

    private HttpsServer(EventLoopGroup boss, EventLoopGroup workers, Channel channel) {
        this.boss = boss;
        this.workers = workers;
        this.channel = channel;
    }

    /**
     * Binds and starts serving.
     *
     * @throws java.io.UncheckedIOException when the address cannot be bound
     */
    public static HttpsServer start(InetSocketAddress address, SslContext ssl, ServiceApi api, DeviceApi devices,
            Executor pool) {
        EventLoopGroup boss = new NioEventLoopGroup(1, new DefaultThreadFactory("opendps-https-accept"));
        EventLoopGroup workers = new NioEventLoopGroup(2, new DefaultThreadFactory("opendps-https"));
        ServerBootstrap b = new ServerBootstrap().group(boss, workers)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline()
                                .addLast(SSL, ssl.newHandler(ch.alloc()))
                                .addLast(IDLE, new IdleStateHandler(0, 0, 120, TimeUnit.SECONDS))
                                .addLast(HTTP, new HttpServerCodec())
                                .addLast(AGGREGATOR, new ApiObjectAggregator(MAX_BODY))
                                .addLast(API, new ServiceApiHandler(api, devices, pool));
                    }
                });
        try {
            Channel channel = b.bind(address).syncUninterruptibly().channel();
            LOG.info("https listening [address: {}]", channel.localAddress());
            return new HttpsServer(boss, workers, channel);
        } catch (RuntimeException e) {
            boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
    }

    /** The bound port. */
    public int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
