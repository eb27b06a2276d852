"""Black-box tests of the public interface against a real server subprocess."""
