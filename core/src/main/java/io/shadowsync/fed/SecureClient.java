package io.shadowsync.fed;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.interfaces.XECPrivateKey;
import java.security.interfaces.XECPublicKey;
import java.security.spec.NamedParameterSpec;
import java.security.spec.XECPublicKeySpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.KeyAgreement;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * One client's side of one round of secure aggregation (Bonawitz et al., CCS 2017), and the server's unmasking
 * ({@link #unmask}), for parties that talk only through messages: what the clients of a multi-process federation
 * run. {@link SecureAggregation} runs the same steps for all of a round's clients in one object.
 *
 * <p>The steps, with the round's n clients numbered by their slot 0..n−1:
 * <ol>
 *   <li>{@link #publicKeys()}: the client makes two X25519 key pairs, c (to encrypt shares) and s (pair masks),
 *       and a self-mask seed b, and advertises both public keys (2 × 32 bytes) through the server;</li>
 *   <li>{@link #deal}: from the advertised keys it deals t-of-n {@link Shamir} shares of s's private key and of b to
 *       every other advertised client j, encrypted with AES-GCM under SHA-256 of the X25519 agreement of c_i and c_j
 *       (direction and slots bound into the key), so that the server routing them reads nothing;</li>
 *   <li>{@link #masked}: it decrypts the shares dealt to it (a tampered one is refused) and masks its update with its
 *       self mask and a pair mask with every client that dealt shares (the round's set U2);</li>
 *   <li>{@link #reveal}: told which clients uploaded, it reveals, for every other client of U2, its share of b for a
 *       survivor and of s's private key for a dropped client — never both for one client.</li>
 * </ol>
 * Masks, fixed point and the PRG are {@link SecureAggregation}'s. Threading: one thread at a time per instance.
 */
public final class SecureClient {
    /** Bytes of one encrypted share pair: two shares and the GCM tag. */
    static final int SEALED_BYTES = 2 * SecureAggregation.SHARE_BYTES + 16;
    static final int KEYS_BYTES = 2 * SecureAggregation.PUBLIC_KEY_BYTES;

    private final int slot;
    private final int n;
    private final int threshold;
    private final SecureRandom rng;
    private final KeyPair cipherKeys;
    private final KeyPair maskKeys;
    private final byte[] selfSeed = new byte[32];
    private PublicKey[] others; // s public keys of the round's clients that advertised
    private Shamir.Share[] keySharesHeld; // [i]: my share of client i's s private key
    private Shamir.Share[] seedSharesHeld;

    /** A client's keys and seed for the round: slot among n clients, t shares recover it. */
    public SecureClient(int slot, int n, int threshold, SecureRandom rng) {
        if (n < 2) throw new IllegalArgumentException("secure aggregation needs at least 2 clients in a round, got " + n);
        if (threshold < 1 || threshold > n) {
            throw new IllegalArgumentException("secure aggregation's threshold must be 1 to " + n + " clients, got " + threshold);
        }
        if (slot < 0 || slot >= n) throw new IllegalArgumentException("slot " + slot + " of a round of " + n);
        this.slot = slot;
        this.n = n;
        this.threshold = threshold;
        this.rng = rng;
        try {
            KeyPairGenerator gen = KeyPairGenerator.getInstance("X25519");
            gen.initialize(NamedParameterSpec.X25519, rng);
            cipherKeys = gen.generateKeyPair();
            maskKeys = gen.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM offers no X25519: " + e.getMessage(), e);
        }
        rng.nextBytes(selfSeed);
    }

    /** Step 1: the two public keys, c then s, 32 bytes each (the X25519 u-coordinate, little-endian). */
    public byte[] publicKeys() {
        byte[] out = new byte[KEYS_BYTES];
        System.arraycopy(raw(cipherKeys.getPublic()), 0, out, 0, 32);
        System.arraycopy(raw(maskKeys.getPublic()), 0, out, 32, 32);
        return out;
    }

    /**
     * Step 2: the sealed share pairs this client deals, [j] for client j (null for itself and for a client that did
     * not advertise).
     *
     * @param advertised every slot's {@link #publicKeys()}, null where a client did not answer
     */
    public byte[][] deal(byte[][] advertised) {
        check(advertised, "advertised keys");
        others = new PublicKey[n];
        for (int j = 0; j < n; j++) if (advertised[j] != null) others[j] = publicKey(advertised[j], 32);
        Shamir.Share[] keyShares = Shamir.split(new BigInteger(1, scalar(maskKeys.getPrivate())), n, threshold, rng);
        Shamir.Share[] seedShares = Shamir.split(new BigInteger(1, selfSeed), n, threshold, rng);
        byte[][] out = new byte[n][];
        for (int j = 0; j < n; j++) {
            if (j == slot || advertised[j] == null) continue;
            byte[] plain = new byte[2 * SecureAggregation.SHARE_BYTES];
            put(keyShares[j].y(), plain, 0);
            put(seedShares[j].y(), plain, SecureAggregation.SHARE_BYTES);
            out[j] = seal(Cipher.ENCRYPT_MODE, shareKey(publicKey(advertised[j], 0), slot, j), plain);
        }
        keySharesHeld = new Shamir.Share[n];
        seedSharesHeld = new Shamir.Share[n];
        keySharesHeld[slot] = keyShares[slot];
        seedSharesHeld[slot] = seedShares[slot];
        return out;
    }

    /**
     * Step 3: this client's upload: x in fixed point plus its self mask and a pair mask with every other client of U2.
     *
     * @param advertised the keys of step 1 (as given to {@link #deal})
     * @param dealtToMe  [i]: client i's sealed shares for this client; non-null exactly for the other clients of U2
     * @throws SecureAggregationException when a sealed share does not open (tampered, or sealed for someone else)
     */
    public long[] masked(float[] x, byte[][] advertised, byte[][] dealtToMe) {
        if (others == null) throw new IllegalStateException("client " + slot + " masks before it dealt its shares");
        check(dealtToMe, "shares");
        long[] y = SecureAggregation.encode(x, n, slot);
        SecureAggregation.addPrg(y, SecureAggregation.selfKey(selfSeed), 1);
        for (int i = 0; i < n; i++) {
            if (i == slot || dealtToMe[i] == null) continue;
            if (advertised[i] == null) throw new SecureAggregationException("client " + i + " dealt shares without advertising keys");
            byte[] plain = seal(Cipher.DECRYPT_MODE, shareKey(publicKey(advertised[i], 0), i, slot), dealtToMe[i]);
            keySharesHeld[i] = new Shamir.Share(slot + 1, new BigInteger(1, java.util.Arrays.copyOfRange(plain, 0, SecureAggregation.SHARE_BYTES)));
            seedSharesHeld[i] = new Shamir.Share(slot + 1, new BigInteger(1, java.util.Arrays.copyOfRange(plain, SecureAggregation.SHARE_BYTES, plain.length)));
            SecureAggregation.addPrg(y, SecureAggregation.pairKey(maskKeys.getPrivate(), others[i]), i > slot ? 1 : -1);
        }
        return y;
    }

    /**
     * Step 4: [i] = this client's share (66 bytes) of client i's self seed when i survived, of its mask key when it did
     * not; null for clients outside U2.
     */
    public byte[][] reveal(boolean[] survived) {
        if (keySharesHeld == null) throw new IllegalStateException("client " + slot + " reveals before it dealt its shares");
        if (survived.length != n) throw new IllegalArgumentException(survived.length + " survival flags for a round of " + n);
        byte[][] out = new byte[n][];
        for (int i = 0; i < n; i++) {
            Shamir.Share s = survived[i] ? seedSharesHeld[i] : keySharesHeld[i];
            if (s == null) continue;
            out[i] = new byte[SecureAggregation.SHARE_BYTES];
            put(s.y(), out[i], 0);
        }
        return out;
    }

    /**
     * The server's unmasking: the exact sum (mod 2^64) of the encoded updates in uploads (slot → masked vector).
     *
     * @param advertised every slot's public keys (null: never advertised)
     * @param inRound    the clients of U2 (dealt shares, so their pair masks are in the others' uploads)
     * @param reveals    revealer slot → its {@link #reveal} answer
     * @throws SecureAggregationException when fewer than threshold survivors revealed
     */
    public static long[] unmask(Map<Integer, long[]> uploads, byte[][] advertised, boolean[] inRound, Map<Integer, byte[][]> reveals,
                                int threshold, int len) {
        int n = inRound.length;
        if (uploads.size() < threshold || reveals.size() < threshold) {
            throw new SecureAggregationException("secure aggregation cannot remove the masks: " + uploads.size() + " of " + n
                    + " clients uploaded and " + reveals.size() + " revealed their shares, and recovering the masks takes " + threshold);
        }
        List<Integer> revealers = new ArrayList<>(reveals.keySet());
        revealers.sort(null);
        long[] sum = new long[len];
        for (Map.Entry<Integer, long[]> e : uploads.entrySet()) {
            if (e.getValue().length != len) throw new IllegalArgumentException("client " + e.getKey() + " uploaded " + e.getValue().length + " values, not " + len);
            for (int k = 0; k < len; k++) sum[k] += e.getValue()[k];
        }
        for (int i : uploads.keySet()) {
            SecureAggregation.addPrg(sum, SecureAggregation.selfKey(SecureAggregation.fixed32(recover(i, revealers, reveals, threshold))), -1);
        }
        for (int d = 0; d < n; d++) {
            if (!inRound[d] || uploads.containsKey(d)) continue;
            PrivateKey sk = SecureAggregation.privateKey(SecureAggregation.fixed32(recover(d, revealers, reveals, threshold)));
            for (int i : uploads.keySet()) {
                SecureAggregation.addPrg(sum, SecureAggregation.pairKey(sk, publicKey(advertised[i], 32)), d > i ? -1 : 1);
            }
        }
        return sum;
    }

    private static BigInteger recover(int owner, List<Integer> revealers, Map<Integer, byte[][]> reveals, int threshold) {
        List<Shamir.Share> got = new ArrayList<>(threshold);
        for (int r : revealers) {
            byte[] s = reveals.get(r)[owner];
            if (s == null) continue;
            got.add(new Shamir.Share(r + 1, new BigInteger(1, s)));
            if (got.size() == threshold) return Shamir.combine(got);
        }
        throw new SecureAggregationException("secure aggregation cannot recover client " + owner + "'s secret: " + got.size()
                + " shares of it were revealed, " + threshold + " are needed");
    }

    private void check(byte[][] perSlot, String what) {
        if (perSlot.length != n) throw new IllegalArgumentException(perSlot.length + " " + what + " for a round of " + n);
    }

    private static void put(BigInteger v, byte[] out, int off) {
        byte[] raw = v.toByteArray();
        int from = Math.max(0, raw.length - SecureAggregation.SHARE_BYTES);
        int len = raw.length - from;
        System.arraycopy(raw, from, out, off + SecureAggregation.SHARE_BYTES - len, len);
    }

    private byte[] shareKey(PublicKey theirCipherKey, int from, int to) {
        try {
            KeyAgreement ka = KeyAgreement.getInstance("X25519");
            ka.init(cipherKeys.getPrivate());
            ka.doPhase(theirCipherKey, true);
            byte[] secret = ka.generateSecret();
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update("shadowsync secure aggregation shares".getBytes(StandardCharsets.US_ASCII));
            md.update(ByteBuffer.allocate(8).putInt(from).putInt(to).array());
            md.update(secret);
            return md.digest();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("X25519 key agreement failed: " + e.getMessage(), e);
        }
    }

    /** AES-256-GCM with a zero nonce: each key seals one message (fresh keys every round, direction in the key). */
    private static byte[] seal(int mode, byte[] key, byte[] in) {
        try {
            Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
            gcm.init(mode, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, new byte[12]));
            return gcm.doFinal(in);
        } catch (AEADBadTagException e) {
            throw new SecureAggregationException("a client's sealed shares do not open: they were altered on the way or sealed for another client");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available: " + e.getMessage(), e);
        }
    }

    private static byte[] raw(PublicKey k) {
        byte[] be = ((XECPublicKey) k).getU().toByteArray();
        byte[] le = new byte[32];
        for (int i = 0; i < Math.min(32, be.length); i++) le[i] = be[be.length - 1 - i];
        return le;
    }

    private static PublicKey publicKey(byte[] keys, int off) {
        if (keys.length != KEYS_BYTES) throw new SecureAggregationException("advertised keys of " + keys.length + " bytes, not " + KEYS_BYTES);
        byte[] be = new byte[33];
        for (int i = 0; i < 32; i++) be[32 - i] = keys[off + i];
        try {
            return KeyFactory.getInstance("X25519").generatePublic(new XECPublicKeySpec(NamedParameterSpec.X25519, new BigInteger(be)));
        } catch (GeneralSecurityException e) {
            throw new SecureAggregationException("an advertised key is not an X25519 public key: " + e.getMessage());
        }
    }

    private static byte[] scalar(PrivateKey k) {
        return ((XECPrivateKey) k).getScalar().orElseThrow();
    }
}
