package dev.backbone.cdn;

import java.util.List;

/**
 * The response the edge sends to a client.
 *
 * @param status  the status code
 * @param headers the header fields, Content-Length excluded
 * @param body    the body; empty for HEAD, 304 and 204
 * @param result  how the response was produced
 */
record EdgeResponse(int status, List<Header> headers, byte[] body, CacheResult result) {
}
