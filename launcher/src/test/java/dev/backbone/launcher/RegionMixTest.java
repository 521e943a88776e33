package dev.backbone.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RegionMixTest {

    @Test
    void defaultMixParses() {
        RegionMix mix = RegionMix.parse(RegionMix.DEFAULT);

        assertThat(mix.regions()).extracting(RegionMix.Region::name).containsExactly("us-east", "us-west", "eu-west", "ap-south");
        assertThat(mix.totalWeight()).isEqualTo(1.0, org.assertj.core.data.Offset.offset(1e-9));
    }

    @Test
    void sameClientAlwaysGetsSameRegion() {
        RegionMix mix = RegionMix.parse(RegionMix.DEFAULT);

        assertThat(mix.forClient("client-17")).isEqualTo(mix.forClient("client-17"));
    }

    @Test
    void badItemsAreRejectedWithFormat() {
        assertThatThrownBy(() -> RegionMix.parse("eu-west")).hasMessageContaining("accepted");
        assertThatThrownBy(() -> RegionMix.parse("EU=1")).hasMessageContaining("lower-case");
        assertThatThrownBy(() -> RegionMix.parse("eu-west:germany=1")).hasMessageContaining("country");
        assertThatThrownBy(() -> RegionMix.parse("eu-west=0")).hasMessageContaining("> 0");
        assertThatThrownBy(() -> RegionMix.parse("eu-west=abc")).hasMessageContaining("weight");
    }
}
