"""Oracle: NLTK's PorterStemmer (default NLTK_EXTENSIONS mode, as rouge-score uses it).

stdin: one word per line; stdout: its stem, one per line.
"""
import sys

from nltk.stem import porter

stemmer = porter.PorterStemmer()
words = sys.stdin.read().split("\n")
if words and words[-1] == "":
    words.pop()
sys.stdout.write("".join(stemmer.stem(w) + "\n" for w in words))
