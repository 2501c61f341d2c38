from django import forms


class JoinForm(forms.Form):
    join_code = forms.CharField(
        max_length=64,
        required=False,
        label="Join code",
        help_text="This tournament is private: ask its organiser for the code.",
    )
