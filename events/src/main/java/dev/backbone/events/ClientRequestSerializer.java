package dev.backbone.events;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import java.io.IOException;
import java.util.Map;

/**
 * Writes a {@link ClientRequest} field by field, the same JSON that Jackson's record serializer writes, without its
 * reflective accessor calls, which took a third of the serialization time in a CPU profile of the front door's batch
 * endpoint. {@code ClientRequestSerializerTest} checks the output against Jackson's own.
 */
final class ClientRequestSerializer extends StdSerializer<ClientRequest> {

    ClientRequestSerializer() {
        super(ClientRequest.class);
    }

    @Override
    public void serialize(ClientRequest request, JsonGenerator json, SerializerProvider provider) throws IOException {
        json.writeStartObject(request);
        json.writeNumberField("schemaVersion", request.schemaVersion());
        json.writeStringField("requestId", request.requestId());
        json.writeStringField("clientId", request.clientId());
        json.writeStringField("region", request.region());
        json.writeStringField("country", request.country());
        json.writeStringField("host", request.host());
        json.writeStringField("method", request.method());
        json.writeStringField("path", request.path());
        json.writeStringField("query", request.query());
        json.writeObjectFieldStart("headers");
        for (Map.Entry<String, String> header : request.headers().entrySet()) {
            json.writeStringField(header.getKey(), header.getValue());
        }
        json.writeEndObject();
        json.writeStringField("body", request.body());
        json.writeStringField("ingestId", request.ingestId());
        json.writeNumberField("replyPartition", request.replyPartition());
        json.writeNumberField("receivedAtMs", request.receivedAtMs());
        json.writeNumberField("deadlineAtMs", request.deadlineAtMs());
        json.writeEndObject();
    }
}
