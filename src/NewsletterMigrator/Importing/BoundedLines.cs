using System.Text;

namespace NewsletterMigrator.Importing;

/// <summary>
/// TextReader.ReadLine with a limit: ReadLine builds the whole line whatever its length, so a file of one
/// 50 MB line became a 100 MB string (and its copies). This reads at most <see cref="ImportLimits.MaxLineChars"/>
/// characters of a line and refuses the file beyond. Line ends as ReadLine: \n, \r\n or \r.
/// </summary>
internal sealed class BoundedLineReader(TextReader reader)
{
    private readonly char[] _buffer = new char[1 << 14];
    private readonly StringBuilder _line = new();
    private int _position, _length;
    private bool _skipLineFeed;

    public string? ReadLine()
    {
        _line.Clear();
        var started = false;
        while (true)
        {
            if (_position == _length)
            {
                _length = reader.Read(_buffer, 0, _buffer.Length);
                _position = 0;
                if (_length == 0) return started ? _line.ToString() : null;
            }
            if (_skipLineFeed)
            {
                _skipLineFeed = false;
                if (_buffer[_position] == '\n' && ++_position == _length) continue;
            }
            started = true;
            var rest = _buffer.AsSpan(_position, _length - _position);
            var end = rest.IndexOfAny('\r', '\n');
            Append(end < 0 ? rest : rest[..end]);
            if (end < 0)
            {
                _position = _length;
                continue;
            }
            _skipLineFeed = rest[end] == '\r';
            _position += end + 1;
            return _line.ToString();
        }
    }

    private void Append(ReadOnlySpan<char> chars)
    {
        if (_line.Length + chars.Length > ImportLimits.MaxLineChars) throw LineTooLong();
        _line.Append(chars);
    }

    internal static ImportFormatException LineTooLong() =>
        new("Import_LineTooLong", $"A line is longer than {ImportLimits.MaxLineChars:N0} characters: this is not a contact list.");

    internal static ImportFormatException TooManyColumns() =>
        new("Import_TooManyColumns", $"A row has more than {ImportLimits.MaxColumns:N0} columns: this is not a contact list.");
}
