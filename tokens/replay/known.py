"""Fixed ingredients of the synthetic market: real tokens from the recorded samples, quote tokens, name words."""

from __future__ import annotations

from dataclasses import dataclass

from tokens.records import SOL_MINT, USDC_MINT


@dataclass(frozen=True, slots=True)
class QuoteToken:
    mint: str
    name: str
    symbol: str
    decimals: int


SOL = QuoteToken(SOL_MINT, "Wrapped SOL", "SOL", 9)
USDC = QuoteToken(USDC_MINT, "USD Coin", "USDC", 6)
QUOTES: dict[str, QuoteToken] = {SOL.mint: SOL, USDC.mint: USDC}

SOL_PRICE_USD = 150.0
# The deep SOL/USDC Raydium pool (address from the recorded tokens/v1 SOL sample).
SOL_USDC_POOL = "58oQChx4yWmvKdwLLZzBi4ChoCc2fqCUWBkwMihLYQo2"
SOL_USDC_LIQUIDITY = 14_250_000.0
SOL_USDC_VOLUME_H24 = 12_460_000.0


@dataclass(frozen=True, slots=True)
class KnownToken:
    """A real token seen in the samples, with its real pools (dex slug, address), all quoted in SOL."""

    mint: str
    name: str
    symbol: str
    price_usd: float
    liquidity_usd: float
    volume_h24: float
    change_h24: float
    pools: tuple[tuple[str, str], ...]
    pump: bool = True


KNOWN_TOKENS: tuple[KnownToken, ...] = (
    KnownToken(
        "8ZCmwpW3MtC5UpNcZf7U4HMvRNTo71syU11BDiAFpump",
        "Gary the Cat",
        "Gary",
        0.00069,
        83_000.0,
        975_000.0,
        480.0,
        (
            ("pumpswap", "2uZuTQEjcXcR1ESwMdGTpqEwM5PCekEwrSNVRPc1EhS1"),
            ("pumpfun", "FLhP2iCq9TNSxtUhE2aVs3DHnh9ihkJCzXaY2nePkeLu"),
        ),
    ),
    KnownToken(
        "DoVAVzViX8Bjy3r15nwikSaSbzE6dV4ovd28aWpJpump",
        "Higgspad",
        "HIGGS",
        0.00088,
        188_000.0,
        1_300_000.0,
        -48.0,
        (
            ("pumpswap", "BFrSZakeqNzVtM3EFhroo4eRhagmmWN8BRntiQKFH6Ru"),
            ("meteora-dlmm", "DQyGMAGx8nB6ykixotLNFC6eVVQjrMqz7AkRyinNkEm1"),
        ),
    ),
    KnownToken(
        "2RBko3xoz56aH69isQMUpzZd9NYHahhwC23A5F3Spkin",
        "PUMPKIN",
        "PKIN",
        0.0093,
        2_390_000.0,
        45_700_000.0,
        271.0,
        (
            ("raydium-clmm", "EDE4v78Zjo54DfhcbWM8nmFrLWSTVGgBcjg8UWh5Fsdv"),
            ("meteora-dlmm", "9GLWwRU9g7qscQQp65ZBHy6syKuyaytbEbHQeh1sqZ3p"),
        ),
        pump=False,
    ),
    KnownToken(
        "GTBxUiw6wJdmmkCGZgRHLyYxqu1vG4KtRpeox6yDpump",
        "Jean Phil",
        "JEANPHIL",
        0.00457,
        323_000.0,
        730_000.0,
        7.0,
        (("pumpswap", "4R8CiMnJWDNoes3fQi1ccPFJygPXazaHaWpHrN3rZeNj"),),
    ),
    KnownToken(
        "7qCo5pmqU4UmxN2EBzDE1FFLhot9NNi91wSvnjYFiFTH",
        "FIFTH",
        "FIFTH",
        0.0000053,
        4_500.0,
        36_000.0,
        -88.0,
        (("pumpswap", "AbmM7CLAKn3rUz8DXT1HPfRpgkqJVXDm6E7iMkWGK7A3"),),
    ),
    KnownToken(
        "B9CiaENLsnu48MJTdeQBzT6Nuaw51uavLL5DgQ9ij7f5",
        ".taylorswift",
        ".TAYLORSWIFT",
        0.0000085,
        8_000.0,
        24_000.0,
        43.0,
        (("pumpfun", "CGKuGqwMBzeqKDsrMh9Z6QN6JiHZxux758TzyrCN14Kq"),),
    ),
)

# Dex slugs of the synthetic market (tokens.dexes style) and how each upstream names them.
DEXES: tuple[str, ...] = ("raydium", "raydium-clmm", "pumpswap", "meteora-dlmm", "orca", "pumpfun")
DEX_WEIGHTS: dict[str, float] = {"raydium": 3, "raydium-clmm": 2, "pumpswap": 4, "meteora-dlmm": 2, "orca": 1}
DS_DEX: dict[str, tuple[str, list[str] | None]] = {
    "raydium": ("raydium", None),
    "raydium-clmm": ("raydium", ["CLMM"]),
    "pumpswap": ("pumpswap", None),
    "meteora-dlmm": ("meteora", ["DLMM"]),
    "orca": ("orca", ["wp"]),
    "pumpfun": ("pumpfun", None),
}
GT_DEX: dict[str, tuple[str, str]] = {
    "raydium": ("raydium", "Raydium"),
    "raydium-clmm": ("raydium-clmm", "Raydium (CLMM)"),
    "pumpswap": ("pumpswap", "PumpSwap"),
    "meteora-dlmm": ("meteora", "Meteora"),
    "orca": ("orca", "Orca"),
    "pumpfun": ("pump-fun", "Pump.fun"),
}

# fmt: off
NAME_HEADS: tuple[str, ...] = (
    "Moon", "Giga", "Based", "Tiny", "Sad", "Happy", "Dark", "Golden", "Baby", "Super", "Mega", "Turbo",
    "Lazy", "Angry", "Cosmic", "Pixel", "Neon", "Retro", "Frozen", "Wild", "Silent", "Lucky", "Crypto", "Degen",
)
NAME_TAILS: tuple[str, ...] = (
    "Cat", "Dog", "Frog", "Pepe", "Wif", "Hat", "Bonk", "Shiba", "Panda", "Otter", "Goat", "Whale", "Monkey",
    "Duck", "Penguin", "Hamster", "Bull", "Bear", "Rocket", "Pump", "Chad", "Wizard", "Ninja", "Sloth",
)
# fmt: on
