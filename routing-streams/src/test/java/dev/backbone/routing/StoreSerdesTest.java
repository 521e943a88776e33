package dev.backbone.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.events.JsonSerde;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.util.Arrays;
import java.util.List;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class StoreSerdesTest {

    private static final String TOPIC = "backbone-routing-client-dns-cache-changelog";

    private final RoutingTrace routed = new RoutingTrace("req-1", "client-1", "xn--bcher-kva.example", "cache", true,
            List.of("lb-2", "lb-3"), "lb-1", "shop", "app-2", true, RoutingTrace.ROUTED, 200, null, 1_733_356_800_123L);
    private final RoutingTrace rejected = new RoutingTrace("req-2", "client-ü", "Bad Host", null, false, List.of(), null,
            null, null, false, RoutingTrace.REJECTED, 400, "invalid_host", 7L);
    private final CachedAnswer answer = new CachedAnswer("shop.example.com", false, List.of("lb-2", "lb-1"), "region", 99L);
    private final CachedAnswer nxdomain = new CachedAnswer("nowhere.example", true, List.of(), null, Long.MAX_VALUE);

    @Test
    void valuesSurviveTheRoundTrip() {
        var answers = StoreSerdes.cachedAnswer();
        for (CachedAnswer value : List.of(answer, nxdomain)) {
            assertThat(answers.deserializer().deserialize(TOPIC, answers.serializer().serialize(TOPIC, value))).isEqualTo(value);
        }
        assertThat(answers.serializer().serialize(TOPIC, null)).isNull();
        assertThat(answers.deserializer().deserialize(TOPIC, null)).isNull();
    }

    @Test
    void traceBatchKeepsTracesInOrder() {
        var batch = StoreSerdes.newTraceBatch(64);
        StoreSerdes.appendTrace(batch, routed);
        StoreSerdes.appendTrace(batch, rejected);
        StoreSerdes.appendTrace(batch, routed);

        assertThat(StoreSerdes.readTraceBatch("7", batch.toByteArray())).containsExactly(routed, rejected, routed);
        assertThat(StoreSerdes.readTraceBatch("8", StoreSerdes.newTraceBatch(64).toByteArray())).isEmpty();
    }

    @Test
    void readsTheJsonOfEarlierVersions() {
        byte[] answerJson = new JsonSerde<>(CachedAnswer.class).serialize(TOPIC, answer);
        assertThat(StoreSerdes.cachedAnswer().deserializer().deserialize(TOPIC, answerJson)).isEqualTo(answer);
    }

    @Test
    void binaryTraceIsSmallerThanJson() {
        var batch = StoreSerdes.newTraceBatch(64);
        StoreSerdes.appendTrace(batch, routed);
        byte[] json = new JsonSerde<>(RoutingTrace.class).serialize(TOPIC, routed);
        assertThat(batch.length()).isLessThan(json.length / 2);
    }

    @Test
    void damagedBytesGiveASerializationExceptionNamingTheBatch() {
        var batch = StoreSerdes.newTraceBatch(64);
        StoreSerdes.appendTrace(batch, routed);
        byte[] bytes = batch.toByteArray();
        assertThatThrownBy(() -> StoreSerdes.readTraceBatch("12", Arrays.copyOf(bytes, bytes.length - 3)))
                .isInstanceOf(SerializationException.class).hasMessageContaining("batch 12 after 0 traces");
        assertThatThrownBy(() -> StoreSerdes.readTraceBatch("12", new byte[]{9, 1, 2}))
                .isInstanceOf(SerializationException.class).hasMessageContaining("format version 9");
        assertThatThrownBy(() -> StoreSerdes.readTraceBatch("12", new byte[0]))
                .isInstanceOf(SerializationException.class).hasMessageContaining("missing");
        var answers = StoreSerdes.cachedAnswer();
        byte[] answerBytes = answers.serializer().serialize(TOPIC, answer);
        assertThatThrownBy(() -> answers.deserializer().deserialize(TOPIC, Arrays.copyOf(answerBytes, answerBytes.length + 1)))
                .isInstanceOf(SerializationException.class).hasMessageContaining("CachedAnswer").hasMessageContaining("left over");
    }

    @Test
    void outputMatchesDataOutputStream() throws Exception {
        // NUL, Latin-1, a 3-byte character, a surrogate pair and a lone surrogate: modified UTF-8 writes each its own way.
        List<String> strings = List.of("", "plain", "nul\u0000", "é", "\u20ac", "\uD83D\uDE00", "lone \uD800", "x".repeat(70_000 / 2));
        var expected = new ByteArrayOutputStream();
        var out = new StoreSerdes.Output(4);
        try (var data = new DataOutputStream(expected)) {
            for (String value : strings) {
                data.writeUTF(value);
                out.writeUTF(value);
            }
            data.writeInt(-2);
            out.writeInt(-2);
            data.writeLong(Long.MIN_VALUE + 5);
            out.writeLong(Long.MIN_VALUE + 5);
            data.writeBoolean(true);
            out.writeBoolean(true);
        }

        assertThat(out.toByteArray()).isEqualTo(expected.toByteArray());
        var in = new StoreSerdes.Input(expected.toByteArray(), 0);
        for (String value : strings) {
            assertThat(in.readUTF()).isEqualTo(value);
        }
        assertThat(in.readInt()).isEqualTo(-2);
        assertThat(in.readLong()).isEqualTo(Long.MIN_VALUE + 5);
        assertThat(in.readBoolean()).isTrue();
        assertThat(in.available()).isZero();
    }

    @Test
    void stringOver65535BytesIsRejectedAndLeavesTheBatchAsItWas() {
        var tooLong = new RoutingTrace("req-3", "client-1", "a".repeat(70_000), null, false, List.of(), null, null, null,
                false, RoutingTrace.REJECTED, 400, "invalid_host", 7L);
        var batch = StoreSerdes.newTraceBatch(64);
        StoreSerdes.appendTrace(batch, routed);

        assertThatThrownBy(() -> StoreSerdes.appendTrace(batch, tooLong))
                .isInstanceOf(SerializationException.class).hasMessageContaining("req-3").hasMessageContaining("65,535");
        StoreSerdes.appendTrace(batch, rejected);
        assertThat(StoreSerdes.readTraceBatch("1", batch.toByteArray())).containsExactly(routed, rejected);
    }
}
