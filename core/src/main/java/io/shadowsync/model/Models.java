package io.shadowsync.model;

import io.shadowsync.nn.ModelSpec;
import java.util.Map;

/** Rebuilds a {@link ModelSpec} from the string properties its {@link ModelSpec#toProperties()} wrote. */
public final class Models {
    private Models() {}

    /**
     * The spec the properties describe, chosen by their {@code kind} ("lr", "mlp", "dlrm"). An unknown kind, a
     * missing or malformed setting, or a key the kind does not know throws {@link IllegalArgumentException}
     * naming the key.
     */
    public static ModelSpec fromProperties(Map<String, String> props) {
        String kind = Props.str(props, "kind");
        return switch (kind) {
            case LrSpec.KIND -> LrSpec.fromProperties(props);
            case MlpSpec.KIND -> MlpSpec.fromProperties(props);
            case DlrmSpec.KIND -> DlrmSpec.fromProperties(props);
            default -> throw new IllegalArgumentException("model property 'kind' must be lr, mlp or dlrm, got '" + kind + "'");
        };
    }
}
