"""HumanEval-style programming tasks written for re3g's code bench: a prompt naming the
function and hidden assert-based tests the model never sees."""

from __future__ import annotations

TASKS: list[dict[str, str]] = [
    {"name": "is_palindrome", "prompt": "Write a Python function `is_palindrome(s: str) -> bool` "
     "that returns True if s reads the same forwards and backwards, ignoring case and any "
     "non-alphanumeric characters.",
     "tests": "assert is_palindrome('A man, a plan, a canal: Panama')\n"
              "assert not is_palindrome('hello')\nassert is_palindrome('')\n"
              "assert is_palindrome('No lemon, no melon')"},
    {"name": "fizzbuzz", "prompt": "Write a Python function `fizzbuzz(n: int) -> list[str]` "
     "returning the strings for 1..n: 'Fizz' for multiples of 3, 'Buzz' for multiples of 5, "
     "'FizzBuzz' for multiples of both, else the number as a string.",
     "tests": "assert fizzbuzz(5) == ['1', '2', 'Fizz', '4', 'Buzz']\n"
              "assert fizzbuzz(15)[-1] == 'FizzBuzz'\nassert fizzbuzz(0) == []"},
    {"name": "fib", "prompt": "Write a Python function `fib(n: int) -> int` returning the n-th "
     "Fibonacci number with fib(0) == 0 and fib(1) == 1. It must be fast for n up to 90.",
     "tests": "assert fib(0) == 0\nassert fib(1) == 1\nassert fib(10) == 55\n"
              "assert fib(90) == 2880067194370816120"},
    {"name": "is_prime", "prompt": "Write a Python function `is_prime(n: int) -> bool` that "
     "returns True when n is a prime number (n may be negative, zero or one).",
     "tests": "assert not is_prime(1)\nassert is_prime(2)\nassert is_prime(97)\n"
              "assert not is_prime(91)\nassert not is_prime(-7)\nassert not is_prime(0)"},
    {"name": "gcd", "prompt": "Write a Python function `gcd(a: int, b: int) -> int` returning "
     "the greatest common divisor of two non-negative integers, with gcd(0, 0) == 0, without "
     "using math.gcd.",
     "tests": "assert gcd(12, 18) == 6\nassert gcd(0, 5) == 5\nassert gcd(0, 0) == 0\n"
              "assert gcd(17, 5) == 1"},
    {"name": "flatten", "prompt": "Write a Python function `flatten(xs: list) -> list` that "
     "flattens arbitrarily nested lists into one flat list, keeping order.",
     "tests": "assert flatten([1, [2, [3, [4]]], 5]) == [1, 2, 3, 4, 5]\n"
              "assert flatten([]) == []\nassert flatten([[[]]]) == []\n"
              "assert flatten(['a', ['b']]) == ['a', 'b']"},
    {"name": "dedupe", "prompt": "Write a Python function `dedupe(xs: list) -> list` that "
     "removes duplicates from a list while keeping the first occurrence order.",
     "tests": "assert dedupe([3, 1, 3, 2, 1]) == [3, 1, 2]\nassert dedupe([]) == []\n"
              "assert dedupe(['a', 'a']) == ['a']"},
    {"name": "word_count", "prompt": "Write a Python function `word_count(text: str) -> dict` "
     "that counts how often each word occurs, case-insensitively; words are runs of letters.",
     "tests": "assert word_count('The cat and the hat.') == "
              "{'the': 2, 'cat': 1, 'and': 1, 'hat': 1}\nassert word_count('') == {}\n"
              "assert word_count('Hi, hi HI!') == {'hi': 3}"},
    {"name": "anagrams", "prompt": "Write a Python function `are_anagrams(a: str, b: str) -> "
     "bool` that tells whether two strings are anagrams, ignoring spaces and case.",
     "tests": "assert are_anagrams('Listen', 'Silent')\n"
              "assert are_anagrams('Dormitory', 'dirty room')\n"
              "assert not are_anagrams('abc', 'abd')"},
    {"name": "binary_search", "prompt": "Write a Python function `binary_search(xs: list[int], "
     "target: int) -> int` that returns the index of target in the sorted list xs, or -1.",
     "tests": "assert binary_search([1, 3, 5, 7, 9], 7) == 3\n"
              "assert binary_search([1, 3, 5], 4) == -1\nassert binary_search([], 1) == -1\n"
              "assert binary_search([2], 2) == 0"},
    {"name": "merge_sorted", "prompt": "Write a Python function `merge_sorted(a: list[int], b: "
     "list[int]) -> list[int]` that merges two sorted lists into one sorted list.",
     "tests": "assert merge_sorted([1, 4, 9], [2, 3, 10]) == [1, 2, 3, 4, 9, 10]\n"
              "assert merge_sorted([], [1]) == [1]\nassert merge_sorted([1, 1], [1]) == [1, 1, 1]"},
    {"name": "transpose", "prompt": "Write a Python function `transpose(m: list[list[int]]) -> "
     "list[list[int]]` that transposes a rectangular matrix.",
     "tests": "assert transpose([[1, 2, 3], [4, 5, 6]]) == [[1, 4], [2, 5], [3, 6]]\n"
              "assert transpose([[1]]) == [[1]]\nassert transpose([]) == []"},
    {"name": "roman", "prompt": "Write a Python function `to_roman(n: int) -> str` converting "
     "an integer from 1 to 3999 to a Roman numeral.",
     "tests": "assert to_roman(4) == 'IV'\nassert to_roman(9) == 'IX'\n"
              "assert to_roman(1994) == 'MCMXCIV'\nassert to_roman(3999) == 'MMMCMXCIX'"},
    {"name": "caesar", "prompt": "Write a Python function `caesar(text: str, shift: int) -> str` "
     "that shifts letters by shift positions (wrapping around, keeping case) and leaves other "
     "characters unchanged.",
     "tests": "assert caesar('abc', 1) == 'bcd'\nassert caesar('xyz', 3) == 'abc'\n"
              "assert caesar('Hello, World!', 13) == 'Uryyb, Jbeyq!'\n"
              "assert caesar('abc', -1) == 'zab'"},
    {"name": "chunks", "prompt": "Write a Python function `chunks(xs: list, n: int) -> list` "
     "that splits xs into consecutive lists of length n (the last may be shorter).",
     "tests": "assert chunks([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]\n"
              "assert chunks([], 3) == []\nassert chunks([1, 2], 5) == [[1, 2]]"},
    {"name": "balanced", "prompt": "Write a Python function `balanced(s: str) -> bool` that "
     "checks whether the brackets (), [] and {} in s are balanced and properly nested.",
     "tests": "assert balanced('([]{})')\nassert not balanced('([)]')\nassert balanced('')\n"
              "assert not balanced('((')\nassert balanced('a(b)c')"},
    {"name": "second_largest", "prompt": "Write a Python function `second_largest(xs: "
     "list[int]) -> int | None` returning the second largest distinct value, or None if "
     "there is none.",
     "tests": "assert second_largest([4, 1, 4, 3]) == 3\nassert second_largest([5]) is None\n"
              "assert second_largest([2, 2]) is None\nassert second_largest([-1, -5]) == -5"},
    {"name": "leap_year", "prompt": "Write a Python function `is_leap(year: int) -> bool` for the "
     "Gregorian calendar.",
     "tests": "assert is_leap(2000)\nassert not is_leap(1900)\nassert is_leap(2024)\n"
              "assert not is_leap(2023)"},
    {"name": "run_length", "prompt": "Write a Python function `rle(s: str) -> str` that "
     "run-length encodes a string: 'aaabcc' becomes 'a3b1c2'.",
     "tests": "assert rle('aaabcc') == 'a3b1c2'\nassert rle('') == ''\nassert rle('z') == 'z1'\n"
              "assert rle('aabbaa') == 'a2b2a2'"},
    {"name": "digits_sum", "prompt": "Write a Python function `digit_sum(n: int) -> int` that "
     "returns the sum of the decimal digits of n (use the absolute value for negative n).",
     "tests": "assert digit_sum(123) == 6\nassert digit_sum(0) == 0\nassert digit_sum(-45) == 9"},
    {"name": "capitalize_words", "prompt": "Write a Python function `title_words(s: str) -> "
     "str` that upper-cases the first letter of each space-separated word and lower-cases the "
     "rest, keeping the spaces as they are.",
     "tests": "assert title_words('hello wORLD') == 'Hello World'\n"
              "assert title_words('  two  spaces') == '  Two  Spaces'\n"
              "assert title_words('') == ''"},
    {"name": "max_subarray", "prompt": "Write a Python function `max_subarray(xs: list[int]) -> "
     "int` returning the largest sum of a non-empty contiguous subarray.",
     "tests": "assert max_subarray([-2, 1, -3, 4, -1, 2, 1, -5, 4]) == 6\n"
              "assert max_subarray([-3, -1, -2]) == -1\nassert max_subarray([5]) == 5"},
    {"name": "matrix_spiral", "prompt": "Write a Python function `spiral(m: list[list[int]]) -> "
     "list[int]` returning the elements of a matrix in clockwise spiral order.",
     "tests": "assert spiral([[1, 2, 3], [4, 5, 6], [7, 8, 9]]) == [1, 2, 3, 6, 9, 8, 7, 4, 5]\n"
              "assert spiral([]) == []\nassert spiral([[1, 2], [3, 4]]) == [1, 2, 4, 3]"},
    {"name": "parse_kv", "prompt": "Write a Python function `parse_kv(s: str) -> dict[str, str]` "
     "that parses 'a=1; b = two ;c=3' into {'a': '1', 'b': 'two', 'c': '3'}, ignoring empty "
     "items and spaces around keys and values.",
     "tests": "assert parse_kv('a=1; b = two ;c=3') == {'a': '1', 'b': 'two', 'c': '3'}\n"
              "assert parse_kv('') == {}\nassert parse_kv('x=1;;') == {'x': '1'}"},
]
