package dev.backbone.appserver;

import dev.backbone.events.ClientRequest;
import dev.backbone.events.ClientResponse;
import dev.backbone.storage.Account;
import dev.backbone.storage.TieredCache;
import java.util.Map;

/**
 * {@code GET /accounts/{id}}: needs a bearer token, reads through the cache tiers, and pins verified accounts.
 *
 * <p>NOTE: any valid token may read any account; tokens carry no roles and the subject is not matched to the account.
 */
final class AccountEndpoints {

    private final TieredCache<Account> cache;
    private final Authenticator authenticator;
    private final Responses responses;

    AccountEndpoints(TieredCache<Account> cache, Authenticator authenticator, Responses responses) {
        this.cache = cache;
        this.authenticator = authenticator;
        this.responses = responses;
    }

    ClientResponse get(ClientRequest request, long id) throws InvalidTokenException {
        authenticator.authenticate(request);
        String key = Account.cacheKey(id);
        TieredCache.Read<Account> read = cache.get(key);
        Map<String, String> cacheHeader = Map.of(ProductEndpoints.CACHE_HEADER, read.tier().tag());
        if (read.value().isEmpty()) {
            return Responses.withHeaders(responses.notFound(request, "account " + id, Map.of("id", Long.toString(id))), cacheHeader);
        }
        Account account = read.value().get();
        if (account.verified() && !cache.pinned().isPinned(key)) {
            cache.pinned().pinLater(key);
        }
        return responses.json(request, 200, account, Map.of("etag", IfMatch.etag(account.version()),
                ProductEndpoints.CACHE_HEADER, read.tier().tag()));
    }
}
